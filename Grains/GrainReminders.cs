namespace FinCore.Grains;

internal static class GrainReminders
{
    /// <summary>Unregisters this grain's reminder of that name, when it has one.</summary>
    public static async Task ForgetReminderAsync(this Grain grain, string name)
    {
        if (await grain.GetReminder(name) is { } reminder)
        {
            await grain.UnregisterReminder(reminder);
        }
    }
}
