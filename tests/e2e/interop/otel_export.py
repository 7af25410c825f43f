#!/usr/bin/env python3
"""Exports one Claude Code-shaped log, counter and span pair with the real
OpenTelemetry Python SDK, over OTLP/gRPC or OTLP/HTTP+protobuf.

Used by cairn's `interop_python` e2e test. Loopback only. Exits 0 when every
export reported success, 1 when any export failed (or never happened), 2 on
bad arguments.

    otel_export.py --protocol grpc --endpoint 127.0.0.1:4317 --token T
    otel_export.py --protocol http --endpoint http://127.0.0.1:4318 --token T
"""

import argparse
import sys
import urllib.parse

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

SESSION_ID = "0b6e7c1e-5d1f-4c3a-9e57-1f0c2d3e4a5b"
PROMPT_ID = "prompt-7f3a9c21"
TOOL_USE_ID = "toolu_01InteropPythonSdk"
MODEL = "claude-sonnet-4-5"
TIMEOUT_S = 10


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--protocol", choices=["grpc", "http"], required=True)
    p.add_argument("--endpoint", required=True, help="grpc: HOST:PORT; http: http://HOST:PORT")
    p.add_argument("--token", required=True)
    return p.parse_args()


def loopback_only(endpoint, protocol):
    url = endpoint if protocol == "http" else "//" + endpoint
    host = urllib.parse.urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"refusing non-loopback endpoint {endpoint!r}", file=sys.stderr)
        sys.exit(2)


def exporters(protocol, endpoint, token):
    """The three OTLP exporters for `protocol`."""
    headers = {"authorization": f"Bearer {token}"}
    delta = {Counter: AggregationTemporality.DELTA}
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        # Loopback: never go through a proxy, whatever the environment says.
        common = dict(
            endpoint=endpoint,
            insecure=True,
            headers=headers,
            timeout=TIMEOUT_S,
            channel_options=(("grpc.enable_http_proxy", 0),),
        )
        return (
            OTLPLogExporter(**common),
            OTLPMetricExporter(preferred_temporality=delta, **common),
            OTLPSpanExporter(**common),
        )
    import requests
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    def session():
        s = requests.Session()
        s.trust_env = False  # no proxy for loopback
        return s

    base = endpoint.rstrip("/")
    common = dict(headers=headers, timeout=TIMEOUT_S)
    return (
        OTLPLogExporter(endpoint=f"{base}/v1/logs", session=session(), **common),
        OTLPMetricExporter(
            endpoint=f"{base}/v1/metrics", session=session(), preferred_temporality=delta, **common
        ),
        OTLPSpanExporter(endpoint=f"{base}/v1/traces", session=session(), **common),
    )


def record_results(name, exporter, results):
    """Wraps `exporter.export` so every result it returns is kept under `name`."""
    inner = exporter.export

    def export(*args, **kwargs):
        result = inner(*args, **kwargs)
        results.setdefault(name, []).append(result)
        return result

    exporter.export = export


def main():
    args = parse_args()
    loopback_only(args.endpoint, args.protocol)
    resource = Resource.create({"service.name": "claude-code", "service.version": "2.1.330"})
    log_exp, metric_exp, span_exp = exporters(args.protocol, args.endpoint, args.token)
    results = {}
    for name, exp in (("logs", log_exp), ("metrics", metric_exp), ("traces", span_exp)):
        record_results(name, exp, results)

    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(log_exp))
    reader = PeriodicExportingMetricReader(metric_exp, export_interval_millis=600_000)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(span_exp))

    logger = logger_provider.get_logger("com.anthropic.claude_code.events", "2.1.330")
    logger.emit(
        body="claude_code.user_prompt",
        attributes={
            "event.name": "user_prompt",
            "session.id": SESSION_ID,
            "prompt.id": PROMPT_ID,
            "event.sequence": 3,
            "prompt_length": "42",
        },
    )

    meter = meter_provider.get_meter("com.anthropic.claude_code", "2.1.330")
    cost = meter.create_counter("claude_code.cost.usage", unit="USD", description="Cost of the session")
    cost.add(0.25, {"model": MODEL, "session.id": SESSION_ID})

    tracer = tracer_provider.get_tracer("com.anthropic.claude_code.tracing", "2.1.330")
    with tracer.start_as_current_span(
        "claude_code.interaction", attributes={"session.id": SESSION_ID, "prompt.id": PROMPT_ID}
    ):
        with tracer.start_as_current_span(
            "claude_code.tool",
            attributes={"tool_use_id": TOOL_USE_ID, "tool_name": "Bash", "prompt.id": PROMPT_ID},
        ):
            pass

    flushed = {
        "logs": logger_provider.force_flush(TIMEOUT_S * 1000),
        "metrics": meter_provider.force_flush(TIMEOUT_S * 1000),
        "traces": tracer_provider.force_flush(TIMEOUT_S * 1000),
    }
    logger_provider.shutdown()
    meter_provider.shutdown()
    tracer_provider.shutdown()

    ok = True
    for signal in ("logs", "metrics", "traces"):
        got = [getattr(r, "name", str(r)) for r in results.get(signal, [])]
        print(f"{signal}: flushed={flushed[signal]} exports={got}", file=sys.stderr)
        if not flushed[signal] or not got or any(r != "SUCCESS" for r in got):
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
