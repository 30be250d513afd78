namespace FinCore.Grains.Risk;

/// <summary>The per-tenant risk rules, evaluated before a charge is accepted for processing: amount limit and
/// velocity per customer and per payment method. Pure arithmetic: well under the 1 ms budget.</summary>
public static class RiskEngine
{
    public const string Allow = "allow";
    public const string Review = "review";
    public const string Block = "block";

    public static RiskAssessment Evaluate(long amount, TenantLimits limits, VelocityCounts velocity)
    {
        if (amount > limits.MaxAmount)
        {
            return new RiskAssessment(100, Block);
        }

        if (velocity.Customer > limits.VelocityPerCustomer || velocity.PaymentMethod > limits.VelocityPerPaymentMethod)
        {
            return new RiskAssessment(95, Block);
        }

        // Score: how close the charge comes to each limit (amount weighs most), 0-100.
        var amountShare = (double)amount / limits.MaxAmount;
        var customerShare = limits.VelocityPerCustomer == 0 ? 0 : (double)velocity.Customer / limits.VelocityPerCustomer;
        var methodShare = limits.VelocityPerPaymentMethod == 0 ? 0 : (double)velocity.PaymentMethod / limits.VelocityPerPaymentMethod;
        var score = (int)Math.Round(Math.Clamp(60 * amountShare + 20 * customerShare + 20 * methodShare, 0, 99));
        return new RiskAssessment(score, score >= 80 ? Review : Allow);
    }
}
