package localcloud

import (
	"encoding/xml"
	"strings"
)

// hashmapXML renders a hashmap as Synnefo's hashes.xml template does for
// GET ?hashmap&format=xml.
func hashmapXML(name string, blockSize, size int64, hashes []string) []byte {
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString(`<object name="`)
	xml.EscapeText(&b, []byte(name))
	b.WriteString(`" bytes="` + itoa(size) + `" block_size="` + itoa(blockSize) + `" block_hash="sha256">`)
	for _, h := range hashes {
		b.WriteString("<hash>" + h + "</hash>")
	}
	b.WriteString("</object>")
	return []byte(b.String())
}
