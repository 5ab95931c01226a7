package report_test

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// node is an element of the parsed page. The report is written as
// well-formed XHTML-compatible HTML, so a strict XML parser (with HTML's
// named entities) checks that every element is closed and nested right;
// golang.org/x/net/html is not a dependency of the module.
type node struct {
	Name     string
	Attr     map[string]string
	Children []*node
	Parent   *node
	seq      []any // text (string) and child elements (*node) in document order
}

func parsePage(t *testing.T, page []byte) *node {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	root := &node{Name: "#document"}
	cur := root
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			line, col := d.InputPos()
			t.Fatalf("page is not well-formed at line %d col %d: %v", line, col, err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &node{Name: tk.Name.Local, Attr: map[string]string{}, Parent: cur}
			for _, a := range tk.Attr {
				n.Attr[a.Name.Local] = a.Value
			}
			cur.Children = append(cur.Children, n)
			cur.seq = append(cur.seq, n)
			cur = n
		case xml.EndElement:
			cur = cur.Parent
		case xml.CharData:
			cur.seq = append(cur.seq, string(tk))
		}
	}
	if cur != root {
		t.Fatalf("unclosed element %s", cur.Name)
	}
	return root
}

// all returns the elements below n (n excluded) for which keep is true, in
// document order.
func (n *node) all(keep func(*node) bool) []*node {
	var out []*node
	var walk func(*node)
	walk = func(m *node) {
		for _, c := range m.Children {
			if keep(c) {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(n)
	return out
}

func (n *node) byName(name string) []*node {
	return n.all(func(m *node) bool { return m.Name == name })
}

func (n *node) hasClass(c string) bool {
	for _, f := range strings.Fields(n.Attr["class"]) {
		if f == c {
			return true
		}
	}
	return false
}

func (n *node) byClass(name, class string) []*node {
	return n.all(func(m *node) bool { return (name == "" || m.Name == name) && m.hasClass(class) })
}

// text is all the text inside n.
func (n *node) text() string {
	var b strings.Builder
	var walk func(*node)
	walk = func(m *node) {
		for _, it := range m.seq {
			switch v := it.(type) {
			case string:
				b.WriteString(v)
			case *node:
				walk(v)
			}
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}
