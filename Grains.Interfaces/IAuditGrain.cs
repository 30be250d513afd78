namespace FinCore.Grains;

/// <summary>The single writer of one tenant's audit chain: seals new events in order, each entry's hash covering
/// the previous one.</summary>
[Alias("fincore.audit-grain")]
public interface IAuditGrain : IGrainWithStringKey
{
    /// <summary>Seals the events not yet in the chain; returns how many it sealed.</summary>
    [Alias("seal")]
    Task<int> Seal();
}
