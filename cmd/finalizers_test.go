package cmd

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestLeaseFree(t *testing.T) {
	now := time.Now()
	held := func(holder string, renewed time.Duration) coordinationv1.Lease {
		return coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(holder),
			RenewTime:            &metav1.MicroTime{Time: now.Add(-renewed)},
			LeaseDurationSeconds: ptr.To[int32](15),
		}}
	}
	for _, c := range []struct {
		name string
		l    coordinationv1.Lease
		want bool
	}{
		{"never held", coordinationv1.Lease{}, true},
		{"released", held("", time.Second), true},
		{"held and renewed", held("op-1", time.Second), false},
		{"held but expired", held("op-1", 20*time.Second), true},
	} {
		if got := leaseFree(c.l, now); got != c.want {
			t.Errorf("%s: leaseFree = %v, want %v", c.name, got, c.want)
		}
	}
}
