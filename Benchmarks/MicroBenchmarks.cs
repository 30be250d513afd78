using BenchmarkDotNet.Attributes;
using FinCore.Runtime;
using FinCore.Runtime.Invocation;
using FinCore.Runtime.Membership;
using FinCore.Runtime.Transport;
using FinCore.TestGrains;

namespace FinCore.Benchmarks;

[MemoryDiagnoser]
public class RingLookupBenchmarks
{
    private MembershipView _view = MembershipView.Empty;
    private GrainId[] _grains = [];
    private int _i;

    [GlobalSetup]
    public void Setup()
    {
        _view = new MembershipView(1, [.. Enumerable.Range(0, 3).Select(i =>
            new SiloInfo($"10.0.0.{i}:11111@1", $"10.0.0.{i}", 11111, null, SiloStatus.Active, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, TimeSpan.Zero))]);
        _grains = Enumerable.Range(0, 1024).Select(i => new GrainId("Charge", $"ten_abc/ch_{i:D12}")).ToArray();
    }

    /// <summary>Hash the grain id and binary-search the ring: what every call does first.</summary>
    [Benchmark]
    public string? OwnerOfGrain() => _view.Ring.Owner(_grains[_i++ & 1023])?.SiloId;
}

[MemoryDiagnoser]
public class CodecBenchmarks
{
    private readonly GrainInterfaceRegistry _registry = new();
    private MethodDescriptor _method = null!;
    private readonly object?[] _args = ["hello, grain", ];
    private byte[] _encoded = [];

    [GlobalSetup]
    public void Setup()
    {
        _method = _registry.Get(typeof(IEchoGrain)).ByMethod.Values.Single(m => m.Name == nameof(IEchoGrain.Echo));
        using var w = new PooledBufferWriter();
        WireCodec.WriteArgs(w, _method, _args);
        _encoded = w.WrittenSpan.ToArray();
    }

    [Benchmark]
    public int EncodeArguments()
    {
        using var w = new PooledBufferWriter();
        WireCodec.WriteArgs(w, _method, _args);
        return w.WrittenCount;
    }

    [Benchmark]
    public object? DecodeArguments() => WireCodec.ReadArgs(_encoded, _method)[0];
}

/// <summary>A call from inside a silo to a grain it owns: proxy, ring check, activation turn.</summary>
[MemoryDiagnoser]
public class LocalCallBenchmarks
{
    private BenchEnvironment _env = null!;
    private IEchoGrain _grain = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _env = await BenchEnvironment.StartAsync();
        var silo = await _env.StartInProcessSiloAsync();
        _grain = silo.GrainFactory.GetGrain<IEchoGrain>("bench");
        await _grain.Add(1, 1);
    }

    [Benchmark]
    public ValueTask<int> LocalGrainCall() => _grain.Add(1, 2);

    [GlobalCleanup]
    public async Task Cleanup() => await _env.DisposeAsync();
}
