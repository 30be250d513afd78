namespace FinCore.Grains;

/// <summary>Exponential backoff with full jitter, the one retry schedule of PSP attempts, webhooks and notifications.</summary>
internal static class Backoff
{
    /// <summary>A delay drawn uniformly from zero to <c>min(maxDelay, baseDelay · 2^attempt)</c>.</summary>
    public static TimeSpan FullJitter(TimeSpan baseDelay, TimeSpan maxDelay, int attempt)
    {
        var ceiling = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt, 0, 30)));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
    }
}
