package catalog

import "sort"

// Reordered returns rooms in the order room.config.reorder asks for: the
// rooms listed in ids first, in list order, then the others in their
// current order (as List sorts them). Unknown and repeated ids are ignored.
// The i-th room of the result gets sorting priority i+1. rooms is not
// modified.
func Reordered(rooms []*Room, ids []string) []*Room {
	all := append([]*Room(nil), rooms...)
	sortRooms(all)
	pos := make(map[string]int, len(ids))
	for i, id := range ids {
		if _, dup := pos[id]; !dup {
			pos[id] = i
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		pi, iok := pos[all[i].ID]
		pj, jok := pos[all[j].ID]
		switch {
		case iok && jok:
			return pi < pj
		case iok != jok:
			return iok
		}
		return false
	})
	return all
}
