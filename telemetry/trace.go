package telemetry

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TracingConfigured reports whether the OTEL_* variables ask for traces:
// an OTLP endpoint is named (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), or OTEL_TRACES_EXPORTER is otlp;
// and neither OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none says no.
func TracingConfigured(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch strings.ToLower(getenv("OTEL_TRACES_EXPORTER")) {
	case "none":
		return false
	case "otlp":
		return true
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// TracerFromEnv makes the tracer provider the OTEL_* variables describe,
// exporting over OTLP/HTTP (protobuf), or nil when TracingConfigured says
// no traces. The exporter itself reads the standard variables (endpoint,
// headers, timeout, TLS), the SDK its sampler (OTEL_TRACES_SAMPLER) and
// the resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES; the service
// is "councilgraph" unless they say otherwise). shutdown flushes the spans
// still buffered.
func TracerFromEnv(ctx context.Context, getenv func(string) string, version string) (tp trace.TracerProvider, shutdown func(context.Context) error, err error) {
	if !TracingConfigured(getenv) {
		return nil, func(context.Context) error { return nil }, nil
	}
	if p := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"); p == "" {
		if p = getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" && p != "http/protobuf" {
			return nil, nil, fmt.Errorf("traces: OTEL_EXPORTER_OTLP_PROTOCOL=%s is not supported; councilgraph sends http/protobuf", p)
		}
	} else if p != "http/protobuf" {
		return nil, nil, fmt.Errorf("traces: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=%s is not supported; councilgraph sends http/protobuf", p)
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("traces: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "councilgraph"), attribute.String("service.version", version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithHost())
	if err != nil {
		return nil, nil, fmt.Errorf("traces: resource: %w", err)
	}
	p := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return p, p.Shutdown, nil
}
