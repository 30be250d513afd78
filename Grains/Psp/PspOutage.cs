using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FinCore.Grains.Psp;

/// <summary>The charges of this silo waiting out a PSP outage. Without it each one retried on its own backoff, so the
/// retries grew with the outage (at 1,000 charges/s, some 30,000 charges after 30 s, a retry each every few seconds:
/// a reminder and a state write apiece) and crowded out new charges. A charge whose attempt the open circuit refused
/// waits here instead, with a long reminder as its backstop (<see cref="PspOptions.OutageBackstop"/>); one of them is
/// sent every <see cref="PspOptions.OutageProbeInterval"/> to find out whether the PSP is back, and once the circuit
/// closes they are released at <see cref="PspOptions.OutageReleaseRate"/> per second, never more than
/// <see cref="PspOptions.OutageReleaseConcurrency"/> at once: a release is an attempt and three or four database writes
/// (the charge, the reminder's removal, the retry state), and thousands of them at once exhausted the silo's connection
/// pool (5 s waits), so attempts timed out, the circuit opened again and the release stalled while the backlog grew. A
/// release that fails goes back to the waiting set. In memory only: after a crash, the backstop reminders bring them back.</summary>
public sealed partial class PspOutage
{
    private readonly ConcurrentDictionary<string, byte> _waiting = new();
    private readonly PspPipeline _pipeline;
    private readonly PspOptions _options;
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private int _running;
    private int _inFlight;

    public PspOutage(PspPipeline pipeline, IOptions<PspOptions> options, IServiceProvider services, ILogger<PspOutage> logger)
    {
        _pipeline = pipeline;
        _options = options.Value;
        _services = services;
        _logger = logger;
        pipeline.Closed += Start;
        PaymentsMetrics.ObserveOutageWaiting(() => Waiting);
    }

    /// <summary>Charges waiting on this silo now (gauge <c>fincore_psp_outage_waiting</c>).</summary>
    public int Waiting => _waiting.Count;

    /// <summary>The charge (its retry grain's key) waits for the PSP.</summary>
    public void Wait(string key)
    {
        _waiting.TryAdd(key, 0);
        Start();
    }

    /// <summary>The charge is being attempted: it no longer waits.</summary>
    public void Stop(string key) => _waiting.TryRemove(key, out _);

    private void Start()
    {
        if (Interlocked.Exchange(ref _running, 1) == 0)
        {
            _ = Task.Run(RunAsync);
        }
    }

    /// <summary>While charges wait: with the circuit open, send one every probe interval; with it closed, release them
    /// all, paced. Ends when none waits.</summary>
    private async Task RunAsync()
    {
        try
        {
            var grains = _services.GetRequiredService<IGrainFactory>();
            var perTick = Math.Max(1, _options.OutageReleaseRate / 50);
            var released = 0;
            while (!_waiting.IsEmpty)
            {
                if (!_pipeline.IsClosed)
                {
                    if (released > 0)
                    {
                        Log.Released(_logger, released, _waiting.Count); // and the circuit opened again
                        released = 0;
                    }

                    Release(grains, 1); // a probe: if the PSP answers, the circuit closes
                    await Task.Delay(_options.OutageProbeInterval);
                    continue;
                }

                released += Release(grains, perTick);
                await Task.Delay(TimeSpan.FromMilliseconds(20));
            }

            if (released > 0)
            {
                Log.Released(_logger, released, 0);
            }
        }
        catch (Exception e)
        {
            Log.Failed(_logger, e);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }

        if (!_waiting.IsEmpty)
        {
            Start(); // one came in as the loop ended
        }
    }

    private int Release(IGrainFactory grains, int count)
    {
        count = Math.Min(count, _options.OutageReleaseConcurrency - Volatile.Read(ref _inFlight));
        var released = 0;
        if (count <= 0)
        {
            return 0; // as many under way as the silo takes: the next tick releases more
        }

        foreach (var key in _waiting.Keys)
        {
            if (released == count)
            {
                break;
            }

            if (_waiting.TryRemove(key, out _))
            {
                released++;
                _ = WakeAsync(grains, key);
            }
        }

        return released;
    }

    private async Task WakeAsync(IGrainFactory grains, string key)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            await grains.Grain<IPspRetryGrain>(key).Wake();
        }
        catch (Exception e)
        {
            // Released again later (unless the charge's own timer or reminder attempts it first: that removes it).
            Log.WakeFailed(_logger, key, e.Message);
            Wait(key);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "PSP circuit closed: released {Released} charges that waited out the outage, {Left} still waiting")]
        public static partial void Released(ILogger logger, int released, int left);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing charge {Key} after a PSP outage failed ({Reason}); it waits to be released again")]
        public static partial void WakeFailed(ILogger logger, string key, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "The PSP outage release loop failed; waiting charges retry on their reminders")]
        public static partial void Failed(ILogger logger, Exception e);
    }
}
