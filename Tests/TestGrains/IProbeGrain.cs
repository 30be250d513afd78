namespace FinCore.Tests.Grains;

/// <summary>A grain that says where it runs and keeps a counter in its storage.</summary>
[Alias("FinCore.Tests.IProbe")]
public interface IProbe : IGrainWithStringKey
{
    /// <summary>The silo this activation runs on (its address, as the membership table names it).</summary>
    [Alias("WhereAmI")]
    Task<string> WhereAmI();

    /// <summary>Adds one to the stored counter and returns it.</summary>
    [Alias("Increment")]
    Task<int> Increment();

    /// <summary>Stores <paramref name="value"/> as the counter (idempotent: a caller may retry it).</summary>
    [Alias("Set")]
    Task Set(int value);

    /// <summary>The stored counter.</summary>
    [Alias("Get")]
    Task<int> Get();

    /// <summary>Arms a timer of this activation that stores <paramref name="value"/> as the counter after
    /// <paramref name="delay"/>: a write that may come from an activation its cluster has since replaced. The timer
    /// logs "late write of N stored" or "late write of N refused: …".</summary>
    [Alias("ArmLateWrite")]
    Task ArmLateWrite(TimeSpan delay, int value);
}

/// <summary>A probe whose counter is in Orleans' ADO.NET storage.</summary>
[Alias("FinCore.Tests.IProbeGrain")]
public interface IProbeGrain : IProbe;

/// <summary>A probe whose counter is in FinCore's group-commit storage; each change of the counter also inserts a row
/// into <c>probe_outbox</c> (grain, count) in the same transaction (the table must exist).</summary>
[Alias("FinCore.Tests.IGroupCommitProbeGrain")]
public interface IGroupCommitProbeGrain : IProbe;

/// <summary>A probe whose counter is kept in a row of <c>probe_rows</c> (<see cref="ProbeRowMapping"/>).</summary>
[Alias("FinCore.Tests.IRowProbeGrain")]
public interface IRowProbeGrain : IProbe;
