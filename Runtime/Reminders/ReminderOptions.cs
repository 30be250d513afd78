namespace FinCore.Runtime.Reminders;

/// <summary>Durable reminders.</summary>
public sealed class ReminderOptions
{
    /// <summary>How often a silo loads the reminders coming due in the ring ranges it owns. Default 1 s.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How far ahead a load looks; must exceed <see cref="RefreshInterval"/>. Default 2 s.</summary>
    public TimeSpan LoadWindow { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>After a tick fails (the grain threw or could not be reached), it is delivered again after this. Default 1 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);
}
