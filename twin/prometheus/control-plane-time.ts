/**
 * The time the twin's Prometheus keeps: the twin's control-plane clock (passed by the kubelet, see
 * twin/kubelet/clock-environment.ts), not the machine's. Scrape intervals, sample timestamps, the
 * lookback delta, query times, `[5m]` windows, subquery steps and retention are control-plane
 * time, so the production queries mean what they mean on a cluster: a `[1m]` window holds four
 * 15 s scrapes whatever the time scale, and Argo's `interval: 1m` measurements are a minute apart
 * on the same clock.
 *
 * Twin simplification: at a time scale above 1 the control-plane clock runs faster than real time
 * (a 15 s scrape interval is 150 ms of real time at ×100); counters count real requests, so rates
 * are per control-plane second (a ratio of rates, such as an error rate, is unchanged), while
 * scrape durations, scrape timeouts and the request latencies in histograms stay real seconds.
 */
export { controlPlaneClock } from '../kubelet/clock-environment.ts';
