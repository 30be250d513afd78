using FinCore.Runtime;

namespace FinCore.TestGrains;

// Grains that tell which activation answered (a new activation, a new id), with three collection ages.

/// <summary>Collected 2 s after its last call, because its class says so.</summary>
public interface IBriefGrain : IGrainWithStringKey
{
    Task<Guid> Instance();
}

/// <summary>No limit of its own: the tests configure one for its type (<c>Activation__CollectionAgeByType__Configured</c>).</summary>
[GrainType("Configured")]
public interface IConfiguredGrain : IGrainWithStringKey
{
    Task<Guid> Instance();
}

/// <summary>No limit at all: the silo's collection age (minutes).</summary>
public interface ILastingGrain : IGrainWithStringKey
{
    Task<Guid> Instance();
}

public abstract class ActivationProbeGrain : Grain
{
    private readonly Guid _instance = Guid.NewGuid();

    public Task<Guid> Instance() => Task.FromResult(_instance);
}

[CollectionAgeLimit(2)]
public sealed class BriefGrain : ActivationProbeGrain, IBriefGrain;

public sealed class ConfiguredGrain : ActivationProbeGrain, IConfiguredGrain;

public sealed class LastingGrain : ActivationProbeGrain, ILastingGrain;
