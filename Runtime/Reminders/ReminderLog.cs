using Microsoft.Extensions.Logging;

namespace FinCore.Runtime.Reminders;

internal static partial class ReminderLog
{
    [LoggerMessage(EventId = (int)RuntimeEventId.ReminderFailed, Level = LogLevel.Warning,
        Message = "Reminder {Name} of {Grain} failed; it will be delivered again")]
    public static partial void TickFailed(ILogger logger, Exception e, string name, string grain);

    [LoggerMessage(EventId = (int)RuntimeEventId.ReminderPollFailed, Level = LogLevel.Warning, Message = "Loading due reminders failed: {Reason}")]
    public static partial void PollFailed(ILogger logger, string reason);
}
