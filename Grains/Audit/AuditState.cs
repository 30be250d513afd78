using FinCore.Persistence;

namespace FinCore.Grains.Audit;

/// <summary>The head of a tenant's chain: the last sequence number and its hash.</summary>
[GenerateSerializer, Alias("fincore.audit-state")]
public sealed class AuditState : OutboxState
{
    [Id(0)]
    public long Seq { get; set; }
    [Id(1)]
    public byte[] Hash { get; set; } = AuditChain.Genesis;
}
