namespace FinCore.Gateway.Validation;

/// <summary>Brazilian taxpayer numbers: CPF (individuals, 11 digits) and CNPJ (companies, 14 digits), each ending in two
/// check digits computed modulo 11 over the digits before them. Accepted with or without the usual punctuation
/// (<c>123.456.789-09</c>, <c>12.345.678/0001-95</c>); stored as digits.</summary>
internal static class Documents
{
    /// <summary>The CPF's digits when it is one (length, check digits, not one digit repeated); null otherwise.</summary>
    public static string? Cpf(string value) => Digits(value, 11, '.', '-') is { } d && CheckDigitsHold(d, [10, 9, 8, 7, 6, 5, 4, 3, 2]) ? d : null;

    /// <summary>The CNPJ's digits when it is one; null otherwise.</summary>
    public static string? Cnpj(string value) => Digits(value, 14, '.', '-', '/') is { } d && CheckDigitsHold(d, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) ? d : null;

    private static string? Digits(string value, int length, params char[] punctuation)
    {
        var digits = new char[length];
        var n = 0;
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c))
            {
                if (n == length)
                {
                    return null;
                }

                digits[n++] = c;
            }
            else if (Array.IndexOf(punctuation, c) < 0)
            {
                return null;
            }
        }

        // One digit throughout passes the arithmetic and is never issued.
        return n == length && Array.Exists(digits, c => c != digits[0]) ? new string(digits) : null;
    }

    /// <summary>The first check digit weighs the digits before it with <paramref name="weights"/>; the second weighs those
    /// and the first check digit with the weights one longer (the sequence starts one higher).</summary>
    private static bool CheckDigitsHold(string d, int[] weights)
    {
        var body = weights.Length;
        int Check(int count, Func<int, int> weight)
        {
            var sum = 0;
            for (var i = 0; i < count; i++)
            {
                sum += (d[i] - '0') * weight(i);
            }

            var r = sum % 11;
            return r < 2 ? 0 : 11 - r;
        }

        var first = Check(body, i => weights[i]);
        // The second's weights: the first weight plus one (or the CNPJ's cycle wrapping to 6), then the same list.
        var lead = weights[0] == 10 ? 11 : 6;
        var second = Check(body + 1, i => i == 0 ? lead : weights[i - 1]);
        return d[body] - '0' == first && d[body + 1] - '0' == second;
    }
}
