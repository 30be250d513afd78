using System.Text.Json;
using FinCore.Grains;
using FinCore.Grains.Psp;
using FinCore.Persistence;
using FinCore.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace FinCore.Tests.Payments;

/// <summary>The charge's status machine as its callers meet it, on an in-process Orleans cluster (Orleans'
/// <c>InProcessTestCluster</c>: in-memory membership, storage and reminders; no database, no PSP). The PSP path is held
/// back by an hour-long cancel window, so each test drives the charge itself, as the retry grain and operators do.</summary>
public sealed class ChargeGrainTests : IAsyncLifetime
{
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage("charges");
            silo.AddMemoryGrainStorage("fincore");
            silo.UseInMemoryReminderService();
            // As the silo host configures it: the charge's collection age (1 min) must exceed the quantum.
            silo.Configure<Orleans.Configuration.GrainCollectionOptions>(o => o.CollectionQuantum = TimeSpan.FromSeconds(15));
            silo.Services.AddOptions<PspOptions>().Configure(o =>
            {
                o.StartDelay = TimeSpan.FromHours(1);
                o.Url = "http://127.0.0.1:9"; // never reached: the window holds every attempt back
            });
            silo.Services.AddSingleton<PspPipeline>();
            silo.Services.AddSingleton<PspOutage>();
            silo.Services.AddHttpClient<PspClient>();
            // The dead-letter grain counts from a database that is not there: it raises its alert regardless.
            silo.Services.AddSingleton(sp => new Database("Host=127.0.0.1;Port=9;Username=none;Timeout=1", [], sp.GetRequiredService<ILogger<Database>>()));
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    /// <summary>Deactivates every charge activation (as idle collection does) and waits until they are gone.</summary>
    private async Task CollectChargesAsync()
    {
        var management = _cluster.Client.GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.Zero);
        await Poll.UntilAsync(async () => (await management.GetSimpleGrainStatistics()).All(s => !s.GrainType.Contains("ChargeGrain")),
            TimeSpan.FromSeconds(10), "the charge activations to be collected");
    }

    private IChargeGrain Charge(string tenant, string id) => _cluster.Client.GetGrain<IChargeGrain>(Ids.ChargeKey(tenant, id));

    private static CreateChargeCommand Command(string tenant, string id, long amount = 1999, string fingerprint = "f1", TenantLimits? limits = null) =>
        new(tenant, id, amount, "BRL", "pm_card_visa", "order", "cus_1", new Dictionary<string, string> { ["k"] = "v" }, fingerprint, limits ?? TenantLimits.Default);

    [Fact]
    public async Task A_create_is_answered_once_and_replayed_for_the_same_request_and_refused_for_another_body()
    {
        var grain = Charge("ten_a", "ch_1");
        var first = await grain.Create(Command("ten_a", "ch_1"));
        Assert.False(first.Replayed);
        Assert.Equal("created", first.Charge.Status);

        var again = await grain.Create(Command("ten_a", "ch_1"));
        Assert.True(again.Replayed);
        Assert.Equal(JsonSerializer.Serialize(first.Charge, ApiJson.Options), JsonSerializer.Serialize(again.Charge, ApiJson.Options)); // what the API shows

        await Assert.ThrowsAsync<IdempotencyKeyMismatchException>(() => grain.Create(Command("ten_a", "ch_1", amount: 5000, fingerprint: "f2")));
        await Assert.ThrowsAsync<ChargeNotFoundException>(() => Charge("ten_b", "ch_1").Get()); // another tenant's key finds nothing
    }

    [Fact]
    public async Task A_create_retried_after_its_activation_is_gone_is_replayed_from_storage()
    {
        // A create is not read before it is written: a retry reaching a new activation must still find the stored charge.
        var first = await Charge("ten_a", "ch_again").Create(Command("ten_a", "ch_again"));
        await CollectChargesAsync();

        var again = await Charge("ten_a", "ch_again").Create(Command("ten_a", "ch_again"));
        Assert.True(again.Replayed);
        Assert.Equal(JsonSerializer.Serialize(first.Charge, ApiJson.Options), JsonSerializer.Serialize(again.Charge, ApiJson.Options));
        Assert.Equal("created", (await Charge("ten_a", "ch_again").Get()).Status); // the activation holds the stored charge

        await CollectChargesAsync();
        await Assert.ThrowsAsync<IdempotencyKeyMismatchException>(() => Charge("ten_a", "ch_again").Create(Command("ten_a", "ch_again", amount: 5000, fingerprint: "f2")));
        Assert.Equal(1999, (await Charge("ten_a", "ch_again").Get()).Amount); // the refused body changed nothing
    }

    [Fact]
    public async Task A_charge_cancels_only_while_created_and_then_takes_no_psp_result()
    {
        var grain = Charge("ten_a", "ch_cancel");
        await grain.Create(Command("ten_a", "ch_cancel"));
        Assert.Equal("canceled", (await grain.Cancel()).Status);
        Assert.Equal("canceled", (await grain.Cancel()).Status); // repeated: a no-op
        await Assert.ThrowsAsync<InvalidChargeStateException>(() => grain.MarkProcessing());
        Assert.Equal("canceled", (await grain.ApplyPspResult(new PspOutcome("captured", "psp_late", null), 1)).Status);

        var processing = Charge("ten_a", "ch_processing");
        await processing.Create(Command("ten_a", "ch_processing"));
        var work = await processing.MarkProcessing();
        Assert.False(work.Resumed); // created until now: no attempt can have gone out
        Assert.True((await processing.MarkProcessing()).Resumed); // processing already: one may have
        await Assert.ThrowsAsync<InvalidChargeStateException>(() => processing.Cancel());
    }

    [Fact]
    public async Task A_risk_block_fails_the_charge_at_creation()
    {
        var grain = Charge("ten_a", "ch_big");
        var created = await grain.Create(Command("ten_a", "ch_big", amount: 2_000_000, limits: TenantLimits.Default with { MaxAmount = 1_000_000 }));
        Assert.Equal("block", created.Charge.Risk.Decision);
        var now = await grain.Get();
        Assert.Equal(("failed", "risk_blocked"), (now.Status, now.FailureCode));
    }

    [Fact]
    public async Task Final_states_absorb_late_and_duplicate_answers_and_a_dead_letter_is_retried_or_discarded()
    {
        var paid = Charge("ten_a", "ch_paid");
        await paid.Create(Command("ten_a", "ch_paid"));
        await paid.MarkProcessing();
        var settled = await paid.ApplyPspResult(new PspOutcome("captured", "psp_1", null), 1);
        Assert.Equal(("succeeded", "psp_1"), (settled.Status, settled.PspReference));
        var late = await paid.ApplyPspResult(new PspOutcome("declined", "psp_2", "card_declined"), 2);
        Assert.Equal(("succeeded", "psp_1"), (late.Status, late.PspReference));

        var dead = Charge("ten_a", "ch_dead");
        await dead.Create(Command("ten_a", "ch_dead"));
        await dead.MarkProcessing();
        Assert.Equal(("dead_lettered", "psp_unavailable"), ((await dead.MarkDeadLettered(7, "PSP down")).Status, (await dead.Get()).FailureCode));
        var retried = await dead.RetryDeadLetter();
        Assert.Equal("processing", retried.Status);
        Assert.Null(retried.FailureCode);
        await Assert.ThrowsAsync<InvalidChargeStateException>(() => dead.DiscardDeadLetter()); // only a dead-lettered one
        await dead.MarkDeadLettered(9, "PSP down again");
        var discarded = await dead.DiscardDeadLetter();
        Assert.Equal(("failed", "discarded"), (discarded.Status, discarded.FailureCode));
        Assert.Equal("failed", (await dead.ApplyPspResult(new PspOutcome("captured", "psp_3", null), 10)).Status);
    }
}
