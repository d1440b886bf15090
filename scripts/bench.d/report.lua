-- wrk script for scripts/bench: prints one machine-readable line with exact figures.
-- Latency values are in microseconds. status = responses with status > 399 (wrk's count);
-- scripts/bench separately checks the 2xx status and body of each peer before measuring.
done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
      "p50=%d p90=%d p99=%d p999=%d max=%d mean=%.1f\n",
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean))
end
