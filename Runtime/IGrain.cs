namespace FinCore.Runtime;

/// <summary>Marker for every grain interface. Grain interfaces declare methods that return
/// <see cref="Task"/>, <see cref="Task{TResult}"/>, <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/>.</summary>
public interface IGrain;
