namespace FinCore.Tests.Grains;

[GenerateSerializer]
[Alias("FinCore.Tests.ProbeState")]
public sealed class ProbeState
{
    [Id(0)]
    public int Count { get; set; }
}
