using FinCore.TestGrains;

namespace FinCore.Tests.Infrastructure;

/// <summary>A steady stream of counter increments from several concurrent callers, keeping count of what
/// succeeded per grain and every failure, so a test can check that nothing failed and nothing was lost.</summary>
internal sealed class CallLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;
    private readonly int[] _acknowledged;
    private readonly List<Exception> _failures = [];
    private readonly ICounterGrain[] _grains;
    private long _calls;

    public CallLoad(TestCluster cluster, string prefix, int grains = 60, int callers = 8)
    {
        _grains = Enumerable.Range(0, grains).Select(i => cluster.Client.GetGrain<ICounterGrain>($"{prefix}/{i}")).ToArray();
        _acknowledged = new int[grains];
        _workers = Enumerable.Range(0, callers).Select(w => Task.Run(() => WorkAsync(w, callers))).ToArray();
    }

    public long Calls => Interlocked.Read(ref _calls);

    public IReadOnlyList<Exception> Failures
    {
        get
        {
            lock (_failures)
            {
                return [.. _failures];
            }
        }
    }

    private async Task WorkAsync(int worker, int callers)
    {
        var i = worker;
        while (!_stop.IsCancellationRequested)
        {
            var g = i % _grains.Length;
            i += callers;
            try
            {
                await _grains[g].Increment();
                Interlocked.Increment(ref _acknowledged[g]);
                Interlocked.Increment(ref _calls);
            }
            catch (Exception e)
            {
                lock (_failures)
                {
                    _failures.Add(e);
                }
            }
        }
    }

    /// <summary>Waits until <paramref name="more"/> further calls succeeded.</summary>
    public Task WaitForCallsAsync(long more, TimeSpan timeout)
    {
        var target = Calls + more;
        return Poll.UntilAsync(() => Calls >= target, timeout, $"{more} more calls to succeed");
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    /// <summary>Every grain's stored count equals the increments acknowledged to callers.</summary>
    public async Task AssertNothingLostAsync()
    {
        for (var g = 0; g < _grains.Length; g++)
        {
            Assert.Equal(_acknowledged[g], await _grains[g].Get());
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }
}
