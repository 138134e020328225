package payload

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestElements(t *testing.T) {
	for in, want := range map[string][]string{
		`[]`:                          nil,
		` [ ] `:                       nil,
		`["a"]`:                       {`"a"`},
		`[ "a" , 1 ,{"x":[1,"]"]} ]`:  {`"a"`, `1`, `{"x":[1,"]"]}`},
		`["a\"],", [[],{}], null]`:    {`"a\"],"`, `[[],{}]`, `null`},
		"[\n\"room.enter\",\t1,{}\n]": {`"room.enter"`, `1`, `{}`},
	} {
		got, err := Elements(nil, []byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var s []string
		for _, g := range got {
			s = append(s, string(g))
		}
		if strings.Join(s, "|") != strings.Join(want, "|") {
			t.Errorf("%s: got %q, want %q", in, s, want)
		}
	}
	for _, in := range []string{`{}`, `"x"`, `1`, ``} {
		if _, err := Elements(nil, []byte(in)); err == nil {
			t.Errorf("%s: accepted as an array", in)
		}
	}
}

func TestPlain(t *testing.T) {
	if b, ok := Plain([]byte(`"room.react"`)); !ok || string(b) != "room.react" {
		t.Fatalf("plain string: %q %v", b, ok)
	}
	for _, in := range []string{`"a\"b"`, `1`, `"`, `null`, "\"\xff\""} {
		if _, ok := Plain([]byte(in)); ok {
			t.Errorf("%s: accepted as plain", in)
		}
	}
}

func TestDecode(t *testing.T) {
	var v struct {
		Room string `json:"room"`
	}
	for in, want := range map[string]string{
		``: "missing payload", `null`: "missing payload", `{"room": 5}`: "wrong type for field",
		`"x"`: "invalid payload",
	} {
		err := Decode(json.RawMessage(in), &v)
		if err == nil || err.Code != "protocol.invalid" || !strings.Contains(err.Message, want) {
			t.Errorf("%q: %v, want protocol.invalid with %q", in, err, want)
		}
	}
	if err := Decode([]byte(`{"room":"r"}`), &v); err != nil || v.Room != "r" {
		t.Fatalf("good payload: %v %+v", err, v)
	}
}
