namespace FinCore.Runtime.Invocation;

/// <summary>Routes a call to wherever the grain lives: a local activation or the owning silo.</summary>
internal interface IGrainCallInvoker
{
    ValueTask<object?> InvokeAsync(GrainId grainId, MethodDescriptor method, object?[] args);
}
