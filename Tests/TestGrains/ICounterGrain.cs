using FinCore.Runtime;

namespace FinCore.TestGrains;

/// <summary>A persisted counter: the simplest grain whose state a failure could lose or corrupt.</summary>
public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Increment();

    [Idempotent]
    Task<int> Get();

    /// <summary>The silo id of the activation answering.</summary>
    [Idempotent]
    Task<string> WhereAmI();
}
