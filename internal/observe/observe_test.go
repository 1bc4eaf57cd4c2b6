package observe

import "testing"

type fixed Status

func (f fixed) Status() Status { return Status(f) }

func TestMerge(t *testing.T) {
	pubsub := fixed{Ready: true, Healthy: true, Servers: []ServerStatus{{Server: "a"}}}
	streams := fixed{Ready: false, Healthy: true, Streams: []StreamStatus{{Stream: "s"}, {Stream: "t"}}}
	st := Merge(pubsub, streams).Status()
	if st.Ready || !st.Healthy || len(st.Servers) != 1 || len(st.Streams) != 2 {
		t.Fatalf("merged = %+v", st)
	}
	if st := Merge().Status(); !st.Ready || !st.Healthy {
		t.Fatalf("empty merge = %+v", st)
	}
	var n Nop // records nothing, never panics
	n.Lane("s", "c").Received()
	n.Stream("s", "x", "g").SetGroup(GroupInfo{})
}
