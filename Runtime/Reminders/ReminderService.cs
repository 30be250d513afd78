using FinCore.Runtime.Activation;
using FinCore.Runtime.Persistence;
using Microsoft.Extensions.Logging;

namespace FinCore.Runtime.Reminders;

/// <summary>Fires durable reminders for the grains this silo owns. Reminders coming due soon are loaded from
/// PostgreSQL by ring ownership and kept on a local timer queue with millisecond precision; reminders that
/// came due while their owner was dead are loaded (and fired) by the new owner at once. Delivery is at
/// least once: a one-shot reminder is removed only after its tick was delivered, a failed tick is retried.</summary>
internal sealed class ReminderService : IAsyncDisposable
{
    private const int LoadLimit = 10_000;
    private readonly ReminderTable _table;
    private readonly SiloRuntime _runtime;
    private readonly ReminderOptions _options;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly PriorityQueue<Entry, long> _queue = new();
    private readonly Dictionary<(GrainId Grain, string Name), Entry> _scheduled = [];
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task _timerLoop = Task.CompletedTask;
    private Task _pollLoop = Task.CompletedTask;
    private int _disposed;

    public ReminderService(ReminderTable table, SiloRuntime runtime, ReminderOptions options, ILogger<ReminderService> logger)
    {
        _table = table;
        _runtime = runtime;
        _options = options;
        _logger = logger;
    }

    public void Start()
    {
        _timerLoop = Task.Run(TimerLoopAsync);
        _pollLoop = Task.Run(PollLoopAsync);
    }

    public async Task<IGrainReminder> RegisterOrUpdateAsync(GrainId grain, string name, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(dueTime, TimeSpan.Zero);
        var periodMs = PeriodMs(period);
        var row = await _table.UpsertAsync(grain, name, (long)dueTime.TotalMilliseconds, periodMs, CancellationToken.None);
        Schedule(row);
        return new Reminder(name);
    }

    public async Task UnregisterAsync(GrainId grain, string name)
    {
        await _table.DeleteAsync(grain, name, null, CancellationToken.None);
        Drop((grain, name));
    }

    /// <summary>Registers or updates a reminder in the transaction of a state write: the timer is set once it commits.
    /// <paramref name="grainIsNew"/>: the grain has never stored state (<see cref="ReminderRow.GrainIsNew"/>).</summary>
    public StorageCommand UpsertWithState(GrainId grain, string name, TimeSpan dueTime, TimeSpan period, bool grainIsNew = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(dueTime, TimeSpan.Zero);
        var dueMs = (long)dueTime.TotalMilliseconds;
        var periodMs = PeriodMs(period);
        var version = ReminderTable.NewVersion();
        return _table.UpsertCommand(grain, name, dueMs, periodMs, version, grainIsNew) with
        {
            OnCommitted = () => Schedule(new ReminderRow(grain, name, DateTime.UtcNow.AddMilliseconds(dueMs), periodMs, version, dueMs, grainIsNew)),
        };
    }

    /// <summary>Removes a reminder in the transaction of a state write.</summary>
    public StorageCommand DeleteWithState(GrainId grain, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return _table.DeleteCommand(grain, name) with { OnCommitted = () => Drop((grain, name)) };
    }

    private static long PeriodMs(TimeSpan period) =>
        period == Timeout.InfiniteTimeSpan || period <= TimeSpan.Zero ? 0 : Math.Max(1, (long)period.TotalMilliseconds);

    private void Drop((GrainId Grain, string Name) key)
    {
        lock (_lock)
        {
            _scheduled.Remove(key);
        }
    }

    public async Task<IGrainReminder?> GetAsync(GrainId grain, string name) =>
        await _table.GetAsync(grain, name, CancellationToken.None) is null ? null : new Reminder(name);

    /// <summary>Drops what this silo no longer owns and looks at once for what it now owns.</summary>
    public void OnOwnershipChanged()
    {
        lock (_lock)
        {
            foreach (var key in _scheduled.Keys.Where(k => !_runtime.OwnsLocally(k.Grain)).ToList())
            {
                _scheduled.Remove(key);
            }
        }

        _ = Task.Run(() => PollOnceAsync(_stop.Token));
    }

    private void Schedule(ReminderRow row, long? dueTick = null)
    {
        if (row.DueInMs > _options.LoadWindow.TotalMilliseconds || !_runtime.OwnsLocally(row.Grain))
        {
            // A later load picks it up (or its owner does); a timer set for an older version is void.
            lock (_lock)
            {
                if (_scheduled.TryGetValue((row.Grain, row.Name), out var stale) && stale.Row.Version != row.Version)
                {
                    _scheduled.Remove((row.Grain, row.Name));
                }
            }

            return;
        }

        var entry = new Entry(row, dueTick ?? Environment.TickCount64 + Math.Max(0, row.DueInMs));
        var wake = false;
        lock (_lock)
        {
            var key = (row.Grain, row.Name);
            if (_scheduled.TryGetValue(key, out var existing) && existing.Row.Version == row.Version)
            {
                return; // already on the timer
            }

            _scheduled[key] = entry;
            wake = !_queue.TryPeek(out _, out var first) || entry.DueTick < first;
            _queue.Enqueue(entry, entry.DueTick);
        }

        if (wake)
        {
            Wake();
        }
    }

    private void Wake()
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
        }
    }

    private async Task TimerLoopAsync()
    {
        var due = new List<Entry>();
        while (!_stop.IsCancellationRequested)
        {
            var wait = Timeout.Infinite;
            lock (_lock)
            {
                var now = Environment.TickCount64;
                while (_queue.TryPeek(out var next, out var at))
                {
                    if (at > now)
                    {
                        wait = (int)Math.Min(at - now, int.MaxValue);
                        break;
                    }

                    _queue.Dequeue();
                    if (_scheduled.TryGetValue((next.Row.Grain, next.Row.Name), out var current) && ReferenceEquals(current, next))
                    {
                        due.Add(next);
                    }
                }
            }

            foreach (var entry in due)
            {
                _ = FireAsync(entry);
            }

            due.Clear();
            try
            {
                await _wake.WaitAsync(wait, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task FireAsync(Entry entry)
    {
        var row = entry.Row;
        var period = row.PeriodMs == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(row.PeriodMs);

        // Overdue when loaded (its owner was down): the lag includes how overdue it already was.
        Telemetry.RuntimeTelemetry.ReminderFired(Environment.TickCount64 - entry.DueTick + Math.Max(0, -row.DueInMs));
        try
        {
            var delivered = await _runtime.DeliverReminderAsync(row.Grain, row.Name, new TickStatus(row.FirstDueAt, period, DateTime.UtcNow), row.GrainIsNew);
            if (!delivered)
            {
                Forget(entry); // owned elsewhere now; its owner fires it
                return;
            }

            if (row.PeriodMs == 0)
            {
                // The grain may have re-registered or removed it with its state during the tick: then it is not ours
                // to delete (and the statement would change nothing).
                if (IsCurrent(entry))
                {
                    await _table.DeleteAsync(row.Grain, row.Name, row.Version, _stop.Token);
                    Forget(entry);
                }
            }
            else
            {
                var next = await _table.AdvanceAsync(row.Grain, row.Name, row.Version, _stop.Token);
                Forget(entry);
                if (next is not null)
                {
                    Schedule(next);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            ReminderLog.TickFailed(_logger, e, row.Name, row.Grain.ToString());
            Retry(entry);
        }
    }

    private void Retry(Entry entry)
    {
        lock (_lock)
        {
            if (!_scheduled.TryGetValue((entry.Row.Grain, entry.Row.Name), out var current) || !ReferenceEquals(current, entry))
            {
                return;
            }

            // Tried again on an activation that reads its state: a failed tick may have been a grain that was not new
            // after all (its first write, an insert, found a stored state).
            var again = entry with
            {
                DueTick = Environment.TickCount64 + (long)_options.RetryDelay.TotalMilliseconds,
                Row = entry.Row with { GrainIsNew = false },
            };
            _scheduled[(entry.Row.Grain, entry.Row.Name)] = again;
            _queue.Enqueue(again, again.DueTick);
        }

        Wake();
    }

    private bool IsCurrent(Entry entry)
    {
        lock (_lock)
        {
            return _scheduled.TryGetValue((entry.Row.Grain, entry.Row.Name), out var current) && ReferenceEquals(current, entry);
        }
    }

    private void Forget(Entry entry)
    {
        lock (_lock)
        {
            var key = (entry.Row.Grain, entry.Row.Name);
            if (_scheduled.TryGetValue(key, out var current) && ReferenceEquals(current, entry))
            {
                _scheduled.Remove(key);
            }
        }
    }

    private async Task PollLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await PollOnceAsync(_stop.Token);
            try
            {
                await Task.Delay(_options.RefreshInterval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task PollOnceAsync(CancellationToken ct)
    {
        try
        {
            foreach (var row in await _table.LoadDueAsync(_options.LoadWindow, LoadLimit, ct))
            {
                Schedule(row);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            ReminderLog.PollFailed(_logger, e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        await Task.WhenAll(_timerLoop, _pollLoop);
    }

    private sealed record Entry(ReminderRow Row, long DueTick);

    private sealed record Reminder(string ReminderName) : IGrainReminder;
}
