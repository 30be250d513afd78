using FinCore.Runtime.Activation;

namespace FinCore.Runtime;

/// <summary>Base class of every grain, shaped as Orleans' <c>Grain</c>. A grain runs one request at a time
/// (turn-based, non-reentrant): grain code never needs locks, must never block, and never uses
/// <c>ConfigureAwait(false)</c>.</summary>
public abstract class Grain
{
    private ActivationData? _activation;

    internal ActivationData Activation =>
        _activation ?? throw new InvalidOperationException("This grain is not activated by the runtime.");

    internal void Attach(ActivationData activation) => _activation = activation;

    /// <summary>This grain's identity.</summary>
    public GrainId GrainId => Activation.GrainId;

    /// <summary>This grain's string key.</summary>
    public string GetPrimaryKeyString() => Activation.GrainId.Key;

    /// <summary>Creates references to other grains.</summary>
    protected IGrainFactory GrainFactory => Activation.Runtime.GrainFactory;

    /// <summary>Called once per activation, after persistent state was loaded, before any request.</summary>
    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Called when the activation is collected; the last chance to persist.</summary>
    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Deactivate after the current turn.</summary>
    protected void DeactivateOnIdle() => Activation.RequestDeactivation(DeactivationReason.ApplicationRequested);

    /// <summary>Registers or updates a durable reminder. <paramref name="dueTime"/> has millisecond resolution;
    /// a <paramref name="period"/> of <see cref="Timeout.InfiniteTimeSpan"/> or zero makes it one-shot:
    /// it is removed after it has been delivered. The grain must implement <see cref="IRemindable"/>.</summary>
    protected Task<IGrainReminder> RegisterOrUpdateReminder(string reminderName, TimeSpan dueTime, TimeSpan period) =>
        Remindable().RegisterOrUpdateAsync(GrainId, reminderName, dueTime, period);

    /// <summary>Like <see cref="RegisterOrUpdateReminder"/>, but as a statement for
    /// <see cref="Persistence.ITransactionalState{TState}.WriteStateAsync(IReadOnlyList{Persistence.StorageCommand}, CancellationToken)"/>:
    /// the reminder changes in the same transaction as the state (one commit instead of two, and never one without the
    /// other).</summary>
    protected Persistence.StorageCommand ReminderWithState(string reminderName, TimeSpan dueTime, TimeSpan period) =>
        Remindable().UpsertWithState(GrainId, reminderName, dueTime, period);

    /// <summary>Like <see cref="ReminderWithState(string, TimeSpan, TimeSpan)"/>, but the reminder belongs to another
    /// grain (whose class must implement <see cref="IRemindable"/>): work this grain hands to a helper becomes durable
    /// with the state change that asks for it, and the helper activates only when the reminder fires.
    /// <paramref name="grainIsNew"/>: the helper has never stored state (it comes into being with this grain's change,
    /// as a new charge's retry grain does). Until the helper writes state of its own (which replaces the reminder, or
    /// removes it), an activation the reminder starts begins with empty state and reads nothing; should a state exist
    /// after all, the helper's first write fails as a stale one and the turn runs again on an activation that reads.
    /// </summary>
    protected Persistence.StorageCommand ReminderWithState<TGrainInterface>(string key, string reminderName, TimeSpan dueTime, TimeSpan period, bool grainIsNew = false)
        where TGrainInterface : IGrainWithStringKey =>
        Activation.Runtime.Reminders.UpsertWithState(Activation.Runtime.Interfaces.IdOf<TGrainInterface>(key), reminderName, dueTime, period, grainIsNew);

    /// <summary>Removes a reminder in the same transaction as a state write or clear.</summary>
    protected Persistence.StorageCommand ReminderRemovalWithState(string reminderName) =>
        Activation.Runtime.Reminders.DeleteWithState(GrainId, reminderName);

    /// <summary>Like <see cref="ReminderRemovalWithState(string)"/>, for another grain's reminder: a helper whose work
    /// ends with this grain's state change has its reminder removed by that change. When the reminder is the one-shot
    /// firing the helper's current turn, the runtime then has no delete of its own to run after the turn.</summary>
    protected Persistence.StorageCommand ReminderRemovalWithState<TGrainInterface>(string key, string reminderName)
        where TGrainInterface : IGrainWithStringKey =>
        Activation.Runtime.Reminders.DeleteWithState(Activation.Runtime.Interfaces.IdOf<TGrainInterface>(key), reminderName);

    /// <summary>Removes a reminder.</summary>
    protected Task UnregisterReminder(IGrainReminder reminder) =>
        Activation.Runtime.Reminders.UnregisterAsync(GrainId, reminder.ReminderName);

    private Reminders.ReminderService Remindable() => this is IRemindable
        ? Activation.Runtime.Reminders
        : throw new InvalidOperationException($"{GetType().Name} must implement IRemindable to register reminders.");

    /// <summary>The reminder with this name, or null.</summary>
    protected Task<IGrainReminder?> GetReminder(string reminderName) =>
        Activation.Runtime.Reminders.GetAsync(GrainId, reminderName);
}
