namespace FinCore.LoadGen.Live;

/// <summary>Where progress goes while a run is on: a live table in a terminal, plain lines otherwise.</summary>
internal interface IProgressView : IAsyncDisposable
{
    void Show(ProgressSnapshot snapshot);
}
