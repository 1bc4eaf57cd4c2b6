package telemetry_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// traceService is an OTLP/gRPC trace receiver that counts spans and keeps the last request's metadata.
type traceService struct {
	coltrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	names []string
	md    metadata.MD
}

func (s *traceService) Export(ctx context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.md, _ = metadata.FromIncomingContext(ctx)
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				s.names = append(s.names, sp.Name)
			}
		}
	}
	return &coltrace.ExportTraceServiceResponse{}, nil
}

func TestExportOverGRPC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	svc := &traceService{}
	coltrace.RegisterTraceServiceServer(srv, svc)
	go srv.Serve(ln)
	defer srv.Stop()
	tr := emit(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + ln.Addr().String(),
		"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20x"})
	if tr.Protocol != "grpc" || tr.Endpoint != "http://"+ln.Addr().String() {
		t.Errorf("tracing = %+v", tr)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		svc.mu.Lock()
		n, md := len(svc.names), svc.md
		svc.mu.Unlock()
		if n == 2 {
			if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer x" {
				t.Errorf("authorization metadata = %v", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d spans over gRPC, want 2", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
