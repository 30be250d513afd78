using FinCore.Runtime;

namespace FinCore.TestGrains;

/// <summary>No state, no I/O: measures the runtime's own call path.</summary>
public interface IEchoGrain : IGrainWithStringKey
{
    ValueTask<int> Add(int a, int b);

    Task<string> Echo(string text);
}

public sealed class EchoGrain : Grain, IEchoGrain
{
    public ValueTask<int> Add(int a, int b) => ValueTask.FromResult(a + b);

    public Task<string> Echo(string text) => Task.FromResult(text);
}
