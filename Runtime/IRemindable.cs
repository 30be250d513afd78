namespace FinCore.Runtime;

/// <summary>Implemented by grains that register reminders.</summary>
public interface IRemindable
{
    /// <summary>Called in a turn of the grain when the reminder <paramref name="reminderName"/> is due.
    /// Delivery is at least once: a reminder may arrive again after a failover.</summary>
    Task ReceiveReminder(string reminderName, TickStatus status);
}
