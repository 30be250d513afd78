using FinCore.Grains.Storage;
using FinCore.Persistence;

namespace FinCore.Grains.Audit;

/// <summary>Seals a tenant's events into its hash chain (<c>audit_chain</c>), in the order it finds them queued.
/// Being a grain makes it the only writer of the chain; the ETag on its head and the write guard fence off a stale
/// duplicate, and an event can be in the chain only once (unique).</summary>
[GrainType("audit")]
public sealed class AuditGrain(Database database, [PersistentState("audit", "fincore")] IPersistentState<AuditState> state) : Grain, IAuditGrain
{
    /// <summary>Events sealed at most per call: a call that sealed fewer found the tenant's queue empty after them.</summary>
    public const int BatchSize = 500;

    public async Task<int> Seal()
    {
        var tenant = this.GetPrimaryKeyString();
        var rows = new List<(long Id, string EventId, string ChargeId, string Type, DateTime At, string Payload)>();
        await using (var cmd = database.DataSource.CreateCommand(PaymentsSql.PendingEvents))
        {
            cmd.Parameters.AddWithValue(tenant);
            cmd.Parameters.AddWithValue(BatchSize);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                rows.Add((r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetDateTime(4), r.GetString(5)));
            }
        }

        if (rows.Count == 0)
        {
            return 0;
        }

        var (seq, hash) = (state.State.Seq, state.State.Hash);
        var ids = new long[rows.Count];
        var seqs = new long[rows.Count];
        var prevs = new byte[rows.Count][];
        var hashes = new byte[rows.Count][];
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            seq++;
            ids[i] = row.Id;
            seqs[i] = seq;
            prevs[i] = hash;
            hash = AuditChain.Next(hash, AuditChain.Canonical(seq, row.EventId, tenant, row.ChargeId, row.Type, row.At, row.Payload));
            hashes[i] = hash;
        }

        // A write that fails leaves this head unreliable (it may have committed with the answer lost): the activation
        // is retired, and the next seal starts from the head that really is in the database.
        var head = (state.State.Seq, state.State.Hash);
        state.State.Seq = seq;
        state.State.Hash = hash;
        try
        {
            await state.WriteStateAsync(PaymentsSql.Seal(tenant, ids, seqs, prevs, hashes));
        }
        catch
        {
            (state.State.Seq, state.State.Hash) = head;
            DeactivateOnIdle();
            throw;
        }

        return rows.Count;
    }
}
