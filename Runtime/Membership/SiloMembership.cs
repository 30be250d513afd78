using Microsoft.Extensions.Logging;

namespace FinCore.Runtime.Membership;

/// <summary>A silo's part in membership: join, heartbeat, watch the others (stale heartbeat + failed direct
/// probe ⇒ declare Dead by CAS), and stop when it finds itself declared Dead.</summary>
internal sealed class SiloMembership(
    MembershipTable table,
    SiloInfo self,
    MembershipOptions options,
    Func<SiloInfo, TimeSpan, Task<string?>> probe,
    Action onDeclaredDead,
    ILogger logger) : MembershipOracle(table, options.HeartbeatInterval, logger)
{
    private int _dead;
    private long _handedOver;

    public SiloInfo Self => self;

    public MembershipOptions Options => options;

    public SiloStatus Status { get; private set; } = SiloStatus.Joining;

    public bool IsDeclaredDead => Volatile.Read(ref _dead) != 0;

    /// <summary>The latest membership version this silo has handed over: it has seen it and deactivated every
    /// activation that version's ring places elsewhere. Written with each heartbeat.</summary>
    public long HandedOver => Interlocked.Read(ref _handedOver);

    /// <summary>Records <paramref name="version"/> as handed over and heartbeats at once, so the silos waiting for
    /// it to let go of its grains hear of it without waiting a heartbeat interval.</summary>
    public void MarkHandedOver(long version)
    {
        long current;
        while (version > (current = Interlocked.Read(ref _handedOver)) && Interlocked.CompareExchange(ref _handedOver, version, current) != current)
        {
        }

        RequestRefresh();
    }

    public async Task JoinAsync(CancellationToken ct)
    {
        MembershipLog.Joining(Logger, self.SiloId, Table.ClusterId);
        await Table.EnsureClusterAsync(ct);
        while (true)
        {
            var view = await Table.ReadAsync(ct);
            if (view.ClusterLevel > self.Level)
            {
                throw new InvalidOperationException(
                    $"cluster '{Table.ClusterId}' holds data of runtime level {view.ClusterLevel}, and this build reads up to level {self.Level}: " +
                    $"deploy a build of level {view.ClusterLevel} or later (rolling back past a level is not supported)");
            }

            // An earlier incarnation on the same address and port is gone: this process holds the port now.
            var predecessor = view.Silos.FirstOrDefault(s => s.Address == self.Address && s.Port == self.Port && s.Status != SiloStatus.Dead);
            if (predecessor is not null)
            {
                if (await Table.TryUpdateStatusAsync(predecessor.SiloId, SiloStatus.Dead, view.Version, ct))
                {
                    MembershipLog.DeclaredDead(Logger, predecessor.SiloId, (long)predecessor.HeartbeatAge.TotalMilliseconds);
                }

                continue;
            }

            if (await Table.TryInsertAsync(self with { Status = SiloStatus.Joining }, view.Version, ct))
            {
                break;
            }
        }

        await RefreshAsync(ct);
    }

    /// <summary>Moves this silo to <paramref name="status"/>, retrying the CAS on concurrent changes.</summary>
    public async Task SetStatusAsync(SiloStatus status, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var view = await Table.ReadAsync(ct);
            if (await Table.TryUpdateStatusAsync(self.SiloId, status, view.Version, ct))
            {
                Status = status;
                MembershipLog.StatusChanged(Logger, self.SiloId, status);
                await RefreshAsync(ct);
                return;
            }

            await Task.Delay(Math.Min(10 * (attempt + 1), 200), ct);
        }
    }

    protected override async Task TickAsync(CancellationToken ct)
    {
        var stored = await Table.HeartbeatAsync(self.SiloId, HandedOver, ct);
        if (stored is null or SiloStatus.Dead)
        {
            if (Interlocked.Exchange(ref _dead, 1) == 0)
            {
                MembershipLog.SelfDead(Logger, self.SiloId);
                onDeclaredDead();
            }

            return;
        }

        var view = await Table.ReadAsync(ct);
        Publish(view);
        if (view.ClusterLevel < self.Level && view.LowestLiveLevel >= self.Level && Status == SiloStatus.Active
            && await Table.TryRaiseLevelAsync(self.Level, view.Version, ct))
        {
            MembershipLog.LevelRaised(Logger, Table.ClusterId, self.Level);
            await RefreshAsync(ct);
            return;
        }

        var suspects = view.Silos.Where(s => s.SiloId != self.SiloId && s.Status != SiloStatus.Dead && s.HeartbeatAge > options.StaleAfter).ToList();
        if (suspects.Count == 0)
        {
            return;
        }

        var changed = false;
        await Task.WhenAll(suspects.Select(async s =>
        {
            var answeredAs = await probe(s, options.ProbeTimeout);
            if (answeredAs == s.SiloId)
            {
                return; // alive, just slow to write its heartbeat (e.g. the database was away)
            }

            if (await Table.TryUpdateStatusAsync(s.SiloId, SiloStatus.Dead, view.Version, ct))
            {
                MembershipLog.DeclaredDead(Logger, s.SiloId, (long)s.HeartbeatAge.TotalMilliseconds);
                changed = true;
            }
        }));

        if (changed)
        {
            await RefreshAsync(ct);
        }
    }
}
