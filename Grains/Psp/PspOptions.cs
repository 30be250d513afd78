namespace FinCore.Grains.Psp;

/// <summary>The PSP client and retry policy (configuration section <c>Psp</c>; URL from <c>FINCORE_PSP_URL</c>).</summary>
public sealed class PspOptions
{
    public string Url { get; set; } = "";

    /// <summary>How long after acceptance the first attempt goes out (a window in which the charge can still be
    /// canceled). Default 0.</summary>
    public TimeSpan StartDelay { get; set; } = TimeSpan.Zero;

    /// <summary>One attempt may take this long; then its outcome is unknown and is asked for before a re-send. Default 2 s.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Most attempts before the dead-letter path. Default 100: about 8 minutes of failures at the backoff cap
    /// (a mean of 5 s apart), so within the default <see cref="MaxElapsed"/> it is a PSP outage's length, not the number of
    /// attempts made meanwhile, that dead-letters a charge.</summary>
    public int MaxAttempts { get; set; } = 100;

    /// <summary>Longest a charge keeps being retried. Default 10 minutes.</summary>
    public TimeSpan MaxElapsed { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Backoff: attempt n waits a random time in [0, min(MaxDelay, BaseDelay·2ⁿ)] (full jitter). Default 200 ms.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Backoff cap. Default 10 s. Once a PSP outage ends, every charge that waited it out is tried within this
    /// (and again within this after a failure): with 30 s, a 12 s outage at 300 charges/s took 42–54 s to settle and
    /// once left a charge open 60 s after it; with 10 s, 15–19 s (<c>ops/chaos --scenario psp-outage</c>).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>While a silo's circuit to the PSP is open, a charge whose attempt it refused does not retry on its own
    /// backoff: it waits for the circuit to close, then is released with the others at up to
    /// <see cref="OutageReleaseRate"/> per second, or tries again by itself after a random time of up to this (from half
    /// of it). Default 30 s. During the wait the silo sends one waiting charge's attempt every
    /// <see cref="OutageProbeInterval"/>: the one that finds the PSP back closes the circuit.</summary>
    public TimeSpan OutageBackstop { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Charges released per second per silo once the circuit to the PSP closes after an outage. Default 500.</summary>
    public int OutageReleaseRate { get; set; } = 500;

    /// <summary>Most charges released after an outage whose attempt is still under way, per silo. Default 32: each holds a
    /// database connection for a few milliseconds three or four times, from pools of 48 (Orleans' providers,
    /// <c>ClusterSettings.OrleansPoolSize</c>) and 32 (FinCore's); at 1,000 charges/s on two cores an unbounded release
    /// exhausted Orleans' pool (<c>ops/chaos --long</c>, psp-outage).</summary>
    public int OutageReleaseConcurrency { get; set; } = 32;

    /// <summary>How often a silo with charges waiting out an outage sends one of them to see whether the PSP is back.
    /// Default 2 s (the circuit's break).</summary>
    public TimeSpan OutageProbeInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A pending (asynchronous) payment is asked for after this if no callback came. Default 10 s.</summary>
    public TimeSpan PendingCheck { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the charge sweeper looks for charges nothing is moving (<see cref="Charges.ChargeSweeperGrain"/>).
    /// Default 10 s; at least 1 s (Orleans' reminder minimum as configured here).</summary>
    public TimeSpan SweepPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a charge stays unchanged, <c>created</c> (past its start delay) or <c>processing</c>, with no
    /// attempt reminder, before the sweeper hands it over again. Default 15 s: well above an attempt's timeout (2 s), so a
    /// first attempt under way (which has no reminder) is not taken for a stranded one (were it, the retry grain ignores
    /// the hand-over, and a new one asks the PSP before sending); with the sweep period, a charge whose silo died during
    /// its first attempt settles within ~25 s.</summary>
    public TimeSpan StrandedAfter { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The delay before attempt <paramref name="attempt"/> (1-based), full jitter.</summary>
    public TimeSpan Backoff(int attempt) => Grains.Backoff.FullJitter(BaseDelay, MaxDelay, attempt);
}
