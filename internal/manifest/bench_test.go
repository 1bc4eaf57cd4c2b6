package manifest

import (
	"fmt"
	"strings"
	"testing"
)

// manyTriggers returns a V2 manifest with n Redis triggers spread over ten
// components, as a generated app with many channels would have. (The
// component count is kept small on purpose: go-toml's duplicate-key tracker
// is itself quadratic in the number of sibling tables, see RATIONALE.md.)
func manyTriggers(n int) []byte {
	var b strings.Builder
	b.WriteString("spin_manifest_version = 2\n[application]\nname = \"many\"\n[application.trigger.redis]\naddress = \"redis://localhost:6379\"\n")
	for i := range n {
		fmt.Fprintf(&b, "\n[[trigger.redis]]\nchannel = \"ch-%d\"\ncomponent = \"c%d\"\n", i, i%10)
	}
	for i := range 10 {
		fmt.Fprintf(&b, "\n[component.c%d]\nsource = \"c.wasm\"\nallowed_outbound_hosts = [\"redis://localhost:6379\"]\n", i)
	}
	return []byte(b.String())
}

// BenchmarkParseTriggers measures Parse on manifests with 1k, 10k and 50k
// triggers; ns/op should grow linearly with the count (issue 10, defect 5:
// the position index made it quadratic).
func BenchmarkParseTriggers(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 50_000} {
		data := manyTriggers(n)
		b.Run(fmt.Sprintf("triggers=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				m, _, err := Parse("spin.toml", data)
				if err != nil {
					b.Fatal(err)
				}
				if len(m.RedisTriggers) != n {
					b.Fatalf("%d triggers, want %d", len(m.RedisTriggers), n)
				}
			}
		})
	}
}
