package main

// This file: logging in to the cloud and resolving what the mount shows
// (the client, its accounts, a remote container and its check, a point in
// time).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	pfs "github.com/pithosfs/pithosfs/fs"
	"github.com/pithosfs/pithosfs/fs/control"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/metrics"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo"
	"github.com/pithosfs/pithosfs/synnefo/astakos"
	"go.uber.org/zap"
)

// connect logs in to cloud, sets cfg's client (as of lim.at when given),
// accounts and remote, and checks that a remote container exists.
func connect(ctx context.Context, cloud cloudConfig, remote remoteSpec, lim mountLimits, opts synnefo.Options, met *metrics.Metrics, log *zap.Logger, cfg *pfs.Config) (cloudConfig, control.Identity, error) {
	cloud, pc, identity, err := loginWithHints(ctx, cloud, opts, cfg)
	if err != nil {
		return cloud, nil, err
	}
	met.Tally().SetEndpoint(pc.Endpoint(), writeback.ProbeName)
	if pc, err = clientAsOf(pc, cloud, lim.at, log); err != nil {
		return cloud, nil, err
	}
	cfg.Client, cfg.Accounts = pc, pfs.PithosAccounts(pc)
	if cfg.Remote, err = resolveRemote(ctx, remote, *cfg); err != nil {
		return cloud, nil, err
	}
	if err := checkRemoteContainer(ctx, pc, cfg.Remote); err != nil {
		return cloud, nil, err
	}
	return cloud, identity, nil
}

// login authenticates (Astakos, or Swift v1.0 auth), returns the object
// store's client as the user's own account and fills cfg's name resolution.
// Errors are one line naming the URL and the status.
func login(ctx context.Context, cloud cloudConfig, opts synnefo.Options, cfg *pfs.Config) (*pithos.Client, control.Identity, error) {
	if cloud.swift() {
		c, err := pithos.NewSwift(ctx, cloud.URL, cloud.User, cloud.Token, opts)
		if err != nil {
			return nil, nil, loginError(cloud.URL, err)
		}
		return c, nil, nil
	}
	ast, err := astakos.New(cloud.URL, cloud.Token, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("cloud %s: %w", cloud.URL, err)
	}
	access, err := ast.Authenticate(ctx)
	if err != nil {
		return nil, nil, loginError(cloud.URL, err)
	}
	endpoint, err := ast.EndpointURL(ctx, pithos.ServiceType)
	if err != nil {
		return nil, nil, fmt.Errorf("cloud %s: no object store in the service catalog: %w", cloud.URL, err)
	}
	c, err := pithos.New(endpoint, cloud.Token, opts)
	if err != nil {
		return nil, nil, err
	}
	cfg.UserName = access.User.Name
	cfg.Names = ast
	return c.WithAccount(access.User.ID), ast, nil
}

func loginError(url string, err error) error {
	var ce *synnefo.ClientError
	if errors.As(err, &ce) && ce.Status != 0 {
		msg := ce.Message
		if msg == "" {
			msg = http.StatusText(ce.Status)
		}
		return &loginFailure{fmt.Sprintf("cannot log in to %s: HTTP %d: %s", url, ce.Status, msg), err}
	}
	return unreachable(url, err)
}

// resolveRemote turns the REMOTE's account (a user name or uuid) into a uuid.
func resolveRemote(ctx context.Context, r remoteSpec, cfg pfs.Config) (pfs.Remote, error) {
	out := pfs.Remote{Account: r.Account, Container: r.Container, Prefix: r.Prefix}
	if r.Account == "" || r.Account == cfg.Client.AccountID() || r.Account == cfg.UserName {
		if r.Account != "" {
			out.Account = cfg.Client.AccountID()
		}
		return out, nil
	}
	if cfg.Names != nil {
		if m, err := cfg.Names.NamesToUUIDs(ctx, []string{r.Account}); err == nil && m[r.Account] != "" {
			out.Account = m[r.Account]
		}
	}
	return out, nil
}

// clientAsOf is the client of a time-travel mount (--at): reads and
// listings as the store was at at; the client itself when at is zero.
func clientAsOf(c *pithos.Client, cloud cloudConfig, at time.Time, log *zap.Logger) (*pithos.Client, error) {
	if at.IsZero() {
		return c, nil
	}
	if cloud.swift() {
		return nil, fmt.Errorf("--at: plain Swift has no listings or reads as of a time (Pithos+ \"until\"); its history is in .pithosfs/versions/ and .pithosfs/deleted/")
	}
	log.Info("time-travel mount: read-only, as the store was then", zap.Time("at", at.UTC()))
	return c.AsOf(at), nil
}
