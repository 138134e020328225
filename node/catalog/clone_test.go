package catalog

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// randRoom fills every field of a Room — by reflection, so a field added
// later is covered without touching the test — with values of the shapes
// JSON can carry: nil, empty and full maps and slices, nested objects and
// arrays in the any-typed fields, awkward strings and numbers.
func randRoom(rng *rand.Rand) *Room {
	var r Room
	fill(rng, reflect.ValueOf(&r).Elem(), 0)
	return &r
}

var awkward = []string{"", "a", "👏", "<&>", "line\nbreak", "\u2028", `"quoted"`, "\x00", "type"}

func randString(rng *rand.Rand) string {
	if rng.IntN(2) == 0 {
		return awkward[rng.IntN(len(awkward))]
	}
	b := make([]rune, rng.IntN(8))
	for i := range b {
		b[i] = rune(rng.IntN(0x3000))
	}
	return string(b)
}

func randNumber(rng *rand.Rand) float64 {
	switch rng.IntN(5) {
	case 0:
		return 0
	case 1:
		return math.Copysign(0, -1)
	case 2:
		return float64(rng.IntN(2000) - 1000)
	case 3:
		return rng.NormFloat64() * 1e300
	}
	return rng.Float64()
}

func randJSON(rng *rand.Rand, depth int) any {
	k := rng.IntN(6)
	if depth > 3 {
		k = rng.IntN(4)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return randString(rng)
	case 2:
		return randNumber(rng)
	case 3:
		return rng.IntN(2) == 0
	case 4:
		n := rng.IntN(4)
		if n == 3 {
			return []any(nil)
		}
		a := make([]any, n)
		for i := range a {
			a[i] = randJSON(rng, depth+1)
		}
		return a
	}
	m := map[string]any{}
	for range rng.IntN(4) {
		m[randString(rng)] = randJSON(rng, depth+1)
	}
	return m
}

func fill(rng *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(randString(rng))
	case reflect.Int:
		v.SetInt(int64(rng.IntN(1<<20) - 1<<19))
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Pointer:
		if rng.IntN(3) > 0 {
			p := reflect.New(v.Type().Elem())
			fill(rng, p.Elem(), depth+1)
			v.Set(p)
		}
	case reflect.Slice:
		n := rng.IntN(5) - 1 // -1: nil
		if n >= 0 {
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				fill(rng, s.Index(i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Map:
		n := rng.IntN(5) - 1
		if n >= 0 {
			m := reflect.MakeMapWithSize(v.Type(), n)
			for range n {
				k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				fill(rng, k, depth+1)
				fill(rng, e, depth+1)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Interface:
		if x := randJSON(rng, depth); x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fill(rng, v.Field(i), depth+1)
		}
	default:
		panic("randRoom: no generator for " + v.Type().String())
	}
}

func roundTrip(t *testing.T, r *Room) *Room {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var c Room
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// refs collects the addresses of every map, slice array and pointer target
// reachable from v.
func refs(v reflect.Value, out map[uintptr]string, path string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			out[v.Pointer()] = path
			refs(v.Elem(), out, path+"*")
		}
	case reflect.Interface:
		if !v.IsNil() {
			refs(v.Elem(), out, path)
		}
	case reflect.Slice:
		if v.Cap() > 0 {
			out[v.Pointer()] = path
		}
		for i := range v.Len() {
			refs(v.Index(i), out, path+"[]")
		}
	case reflect.Map:
		if !v.IsNil() {
			out[v.Pointer()] = path
		}
		it := v.MapRange()
		for it.Next() {
			refs(it.Value(), out, path+"."+it.Key().String())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			refs(v.Field(i), out, path+"."+v.Type().Field(i).Name)
		}
	}
}

// checkClone is the property: for a room as the catalog holds it (decoded
// from JSON), Clone equals a JSON round trip, field for field, nil and
// empty alike; for any room, the clone's JSON form (what Equal compares)
// is the original's; and the clone shares no map, slice or pointer with it.
func checkClone(t *testing.T, raw *Room) {
	t.Helper()
	held := roundTrip(t, raw)
	if got, want := held.Clone(), roundTrip(t, held); !reflect.DeepEqual(got, want) {
		t.Fatalf("Clone differs from the JSON round trip:\n got %#v\nwant %#v", got, want)
	}
	for _, r := range []*Room{raw, held} {
		c := r.Clone()
		a, _ := json.Marshal(r)
		b, _ := json.Marshal(c)
		if string(a) != string(b) {
			t.Fatalf("clone's JSON differs:\n got %s\nwant %s", b, a)
		}
		orig, cl := map[uintptr]string{}, map[uintptr]string{}
		refs(reflect.ValueOf(r).Elem(), orig, "room")
		refs(reflect.ValueOf(c).Elem(), cl, "room")
		for p, path := range cl {
			if _, ok := orig[p]; ok {
				t.Fatalf("clone shares %s with the original", path)
			}
		}
	}
}

func TestCloneEqualsJSONRoundTrip(t *testing.T) {
	for seed := range uint64(3000) {
		checkClone(t, randRoom(rand.New(rand.NewPCG(seed, 1))))
	}
	checkClone(t, &Room{})
	if (*Room)(nil).Clone() != nil {
		t.Fatal("nil room cloned to non-nil")
	}
}

func FuzzClone(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(42), uint64(7))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		checkClone(t, randRoom(rand.New(rand.NewPCG(a, b))))
	})
}

// A value some code put in a room itself, not one JSON decoding gives, is
// copied as a JSON round trip would give it.
func TestCloneForeignValues(t *testing.T) {
	r := &Room{ScheduleData: map[string]any{"n": 3, "l": []string{"a"}, "m": map[string]int{"x": 1}}}
	if got, want := r.Clone(), roundTrip(t, r); !reflect.DeepEqual(got.ScheduleData, want.ScheduleData) {
		t.Fatalf("got %#v, want %#v", got.ScheduleData, want.ScheduleData)
	}
}
