package localcloud

import (
	"encoding/json"
	"encoding/xml"
	"reflect"
	"strings"
)

// The object store's listing rows, typed: account, container and object
// listings as JSON (encoding/json) and as Synnefo's XML (xmlRow, from the
// same struct tags). Fields are declared in the order of their JSON keys,
// the order the maps they replace were written in, and XML elements follow
// that order, so the bytes are unchanged.

// listingRow is one entry of a listing; xmlTag is its XML element.
type listingRow interface {
	xmlTag() string
}

// accountRow is an account in the top-level listing, and a container as
// listed to a user it is shared with (Synnefo's XML calls both account).
type accountRow struct {
	LastModified string `json:"last_modified"`
	Name         string `json:"name"`
}

func (accountRow) xmlTag() string { return "account" }

type containerPolicy struct {
	Project    string `json:"project"`
	Quota      string `json:"quota"`
	Versioning string `json:"versioning"`
}

// containerRow is a container as its owner lists it, at until when given.
type containerRow struct {
	Bytes          int64           `json:"bytes"`
	Count          int64           `json:"count"`
	LastModified   string          `json:"last_modified"`
	Name           string          `json:"name"`
	Policy         containerPolicy `json:"x_container_policy"`
	UntilTimestamp string          `json:"x_container_until_timestamp,omitempty"`
}

func (containerRow) xmlTag() string { return "container" }

// objectRow is an object in a container listing. LastModified is left out
// of a listing at until; the owner sees sharing and the public URL, another
// reader sharing, who shared it and whether it may write.
type objectRow struct {
	Available         int     `json:"available"`
	Bytes             int64   `json:"bytes"`
	ContentType       string  `json:"content_type"`
	Hash              string  `json:"hash"`
	LastModified      string  `json:"last_modified,omitempty"`
	MapCheckTimestamp *string `json:"map_check_timestamp"`
	Name              string  `json:"name"`
	AllowedTo         string  `json:"x_object_allowed_to,omitempty"`
	ObjectHash        string  `json:"x_object_hash"`
	ModifiedBy        string  `json:"x_object_modified_by"`
	Public            string  `json:"x_object_public,omitempty"`
	SharedBy          string  `json:"x_object_shared_by,omitempty"`
	Sharing           *string `json:"x_object_sharing,omitempty"`
	UUID              string  `json:"x_object_uuid"`
	Version           uint64  `json:"x_object_version"`
	VersionTimestamp  string  `json:"x_object_version_timestamp"`
}

func (objectRow) xmlTag() string { return "object" }

// subdirRow is a common prefix in a delimiter listing.
type subdirRow struct {
	Subdir string `json:"subdir"`
}

func (subdirRow) xmlTag() string { return "subdir" }

// writeXMLRow renders a row as Synnefo's listing XML: one element per JSON
// field (omitempty ones left out when empty), a nested struct as key/value
// pairs, a subdir as an empty element with its name.
func writeXMLRow(b *strings.Builder, row listingRow) {
	if sub, ok := row.(subdirRow); ok {
		b.WriteString(`<subdir name="`) // as Synnefo's objects.xml: no children
		xml.EscapeText(b, []byte(sub.Subdir))
		b.WriteString(`" />`)
		return
	}
	tag := row.xmlTag()
	b.WriteString("<" + tag + ">")
	v := reflect.ValueOf(row)
	for i := range v.NumField() {
		name, omit := jsonName(v.Type().Field(i))
		f := v.Field(i)
		if omit && f.IsZero() {
			continue
		}
		b.WriteString("<" + name + ">")
		if f.Kind() == reflect.Struct {
			for j := range f.NumField() {
				k, _ := jsonName(f.Type().Field(j))
				b.WriteString("<key>" + k + "</key><value>")
				xml.EscapeText(b, []byte(xmlValue(f.Field(j))))
				b.WriteString("</value>")
			}
		} else {
			xml.EscapeText(b, []byte(xmlValue(f)))
		}
		b.WriteString("</" + name + ">")
	}
	b.WriteString("</" + tag + ">")
}

// jsonName is a field's JSON key and whether it is omitempty.
func jsonName(f reflect.StructField) (string, bool) {
	name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name, opts == "omitempty"
}

// xmlValue is a field's text: a string as is, nil as nothing, anything else
// as its JSON.
func xmlValue(f reflect.Value) string {
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return ""
		}
		f = f.Elem()
	}
	if f.Kind() == reflect.String {
		return f.String()
	}
	b, _ := json.Marshal(f.Interface())
	return string(b)
}
