namespace FinCore.Runtime.Transport;

/// <summary>Runs an incoming grain call and writes the complete response frame.</summary>
internal interface IRequestDispatcher
{
    ValueTask<PooledBufferWriter> DispatchAsync(WireRequest request);
}
