using System.Globalization;

namespace PrivateServer.Benchmarks.Report;

/// <summary>Repeated measurements of one quantity: median with min–max, or percentiles of many samples.</summary>
internal sealed class Samples
{
    private readonly List<double> _values = [];

    public int Count => _values.Count;

    public void Add(double value) => _values.Add(value);

    public double Median => Percentile(50);

    public double Min => _values.Count == 0 ? double.NaN : _values.Min();

    public double Max => _values.Count == 0 ? double.NaN : _values.Max();

    /// <summary>The nearest-rank percentile (p in 0..100).</summary>
    public double Percentile(double p)
    {
        if (_values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = _values.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    public IReadOnlyList<double> Values => _values;

    /// <summary>"median (min–max)" with the given number of decimals.</summary>
    public string MedianRange(int decimals) =>
        string.Create(CultureInfo.InvariantCulture, $"{Format(Median, decimals)} ({Format(Min, decimals)}–{Format(Max, decimals)})");

    public static string Format(double value, int decimals) =>
        double.IsNaN(value) ? "–" : value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
