namespace FinCore.Runtime;

/// <summary>Creates references to grains. A reference is cheap; the grain is activated on first call.</summary>
public interface IGrainFactory
{
    /// <summary>A reference to the grain of interface <typeparamref name="TGrainInterface"/> with this key.</summary>
    TGrainInterface GetGrain<TGrainInterface>(string primaryKey) where TGrainInterface : IGrainWithStringKey;
}
