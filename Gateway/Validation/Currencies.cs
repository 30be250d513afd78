namespace FinCore.Gateway.Validation;

/// <summary>Active ISO 4217 alphabetic codes (globalization data is off in this build, so the list is ours).</summary>
internal static class Currencies
{
    private static readonly HashSet<string> Codes = new(
        ("AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF " +
         "CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG " +
         "HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA " +
         "MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD " +
         "RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX " +
         "USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL").Split(' '), StringComparer.Ordinal);

    /// <summary>The upper-case code, or null when <paramref name="value"/> is not an ISO 4217 code (any case accepted).</summary>
    public static string? Normalize(string? value)
    {
        if (value is null || value.Length != 3)
        {
            return null;
        }

        var upper = value.ToUpperInvariant();
        return Codes.Contains(upper) ? upper : null;
    }
}
