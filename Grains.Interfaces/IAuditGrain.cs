using FinCore.Runtime;

namespace FinCore.Grains;

/// <summary>The single writer of one tenant's audit chain: seals new events in order, each entry's hash covering
/// the previous one.</summary>
[GrainType("audit")]
public interface IAuditGrain : IGrainWithStringKey
{
    /// <summary>Seals the events not yet in the chain; returns how many it sealed.</summary>
    Task<int> Seal();
}
