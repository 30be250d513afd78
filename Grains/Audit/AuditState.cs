namespace FinCore.Grains.Audit;

/// <summary>The head of a tenant's chain: the last sequence number and its hash.</summary>
public sealed class AuditState
{
    public long Seq { get; set; }
    public byte[] Hash { get; set; } = AuditChain.Genesis;
}
