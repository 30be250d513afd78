namespace FinCore.Tests.Grains;

/// <summary>Makes grain calls from inside a silo (for the in-silo call benchmark).</summary>
[Alias("FinCore.Tests.IFanoutGrain")]
public interface IFanoutGrain : IGrainWithStringKey
{
    /// <summary>Calls <see cref="IProbe.WhereAmI"/> on probe grains <paramref name="calls"/> times, <paramref name="parallel"/>
    /// at once, and returns how many calls answered.</summary>
    [Alias("Fanout")]
    Task<int> Fanout(int calls, int parallel, int grains);
}
