using FinCore.Grains;
using FinCore.Grains.Risk;

namespace FinCore.Tests.Payments;

public sealed class StatusMachineTests
{
    // How far along a charge is; dead_lettered -> processing (operator retry) is the one allowed step back in rank.
    private static int Rank(ChargeStatus s) => s switch
    {
        ChargeStatus.Created => 0,
        ChargeStatus.Processing => 1,
        ChargeStatus.DeadLettered => 2,
        _ => 3,
    };

    [Fact]
    public void Random_command_sequences_never_leave_a_terminal_state_or_return_to_created()
    {
        var random = new Random(20261121);
        var all = Enum.GetValues<ChargeStatus>();
        for (var run = 0; run < 20_000; run++)
        {
            var status = ChargeStatus.Created;
            var path = new List<ChargeStatus> { status };
            for (var step = 0; step < 12; step++)
            {
                var wanted = all[random.Next(all.Length)];
                if (!ChargeStatusMachine.CanMove(status, wanted))
                {
                    continue;
                }

                Assert.False(ChargeStatusMachine.IsTerminal(status), $"left terminal {status}: {string.Join(" -> ", path)}");
                Assert.NotEqual(ChargeStatus.Created, wanted);
                Assert.True(Rank(wanted) > Rank(status) || (status, wanted) == (ChargeStatus.DeadLettered, ChargeStatus.Processing),
                    $"moved backwards: {string.Join(" -> ", path)} -> {wanted}");
                status = wanted;
                path.Add(status);
            }
        }
    }

    [Theory]
    [InlineData(ChargeStatus.Created, ChargeStatus.Canceled, true)]
    [InlineData(ChargeStatus.Processing, ChargeStatus.Canceled, false)]
    [InlineData(ChargeStatus.Succeeded, ChargeStatus.Failed, false)]
    [InlineData(ChargeStatus.Failed, ChargeStatus.Succeeded, false)]
    [InlineData(ChargeStatus.DeadLettered, ChargeStatus.Failed, true)]
    [InlineData(ChargeStatus.Created, ChargeStatus.Failed, true)]
    public void Transitions_follow_the_api_contract(ChargeStatus from, ChargeStatus to, bool allowed) =>
        Assert.Equal(allowed, ChargeStatusMachine.CanMove(from, to));

    [Fact]
    public void Risk_blocks_over_the_amount_limit_and_past_velocity_and_scores_in_range()
    {
        var limits = new TenantLimits(10_000, 100, 3, 5);
        Assert.Equal(RiskEngine.Block, RiskEngine.Evaluate(10_001, limits, new VelocityCounts(1, 1)).Decision);
        Assert.Equal(RiskEngine.Block, RiskEngine.Evaluate(10, limits, new VelocityCounts(4, 1)).Decision);
        Assert.Equal(RiskEngine.Block, RiskEngine.Evaluate(10, limits, new VelocityCounts(1, 6)).Decision);
        var low = RiskEngine.Evaluate(10, limits, new VelocityCounts(1, 1));
        Assert.Equal(RiskEngine.Allow, low.Decision);
        Assert.InRange(low.Score, 0, 20);
        Assert.Equal(RiskEngine.Review, RiskEngine.Evaluate(10_000, limits, new VelocityCounts(3, 5)).Decision);
    }
}
