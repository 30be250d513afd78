using Microsoft.Extensions.Logging;

namespace FinCore.Runtime.Membership;

/// <summary>Keeps this process's view of the membership table current: re-read on an interval and whenever a
/// caller hints that the view is stale (a bounce, a refused connection, a newer version in a response).</summary>
internal abstract class MembershipOracle : IAsyncDisposable
{
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _interval;
    private MembershipView _view = MembershipView.Empty;
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    protected MembershipOracle(MembershipTable table, TimeSpan interval, ILogger logger)
    {
        Table = table;
        _interval = interval;
        Logger = logger;
    }

    protected MembershipTable Table { get; }

    protected ILogger Logger { get; }

    protected CancellationToken Stopping => _stop.Token;

    public MembershipView View => Volatile.Read(ref _view);

    /// <summary>Raised (on the refresh loop) when the version changes.</summary>
    public event Action<MembershipView>? ViewChanged;

    public void StartLoop() => _loop = Task.Run(LoopAsync);

    public void RequestRefresh()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public async Task<MembershipView> RefreshAsync(CancellationToken ct)
    {
        var view = await Table.ReadAsync(ct);
        Publish(view);
        return View;
    }

    protected void Publish(MembershipView view)
    {
        while (true)
        {
            var current = View;
            if (view.Version < current.Version)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _view, view, current) == current)
            {
                if (view.Version != current.Version)
                {
                    MembershipLog.ViewChanged(Logger, view.Version, string.Join(", ", view.Silos.Where(s => s.Status != SiloStatus.Dead).Select(s => $"{s.SiloId}={s.Status}")));
                    ViewChanged?.Invoke(view);
                }

                return;
            }
        }
    }

    /// <summary>One round of the loop: by default, re-read the table.</summary>
    protected virtual async Task TickAsync(CancellationToken ct) => await RefreshAsync(ct);

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await TickAsync(_stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                MembershipLog.UpdateFailed(Logger, e.Message);
            }

            try
            {
                await _wake.WaitAsync(_interval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Stops the loop. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
