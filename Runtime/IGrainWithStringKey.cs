namespace FinCore.Runtime;

/// <summary>A grain identified by a string key, as in Orleans. Keys of tenant data carry the tenant.</summary>
public interface IGrainWithStringKey : IGrain;
