using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using PrivateServer.Server.Accounts;

namespace PrivateServer.Server.Web.Profile;

/// <summary>
/// Profile pictures: a PNG or JPEG the user uploaded (checked by its first bytes, at most
/// <see cref="MaximumBytes"/>), otherwise the initials drawn as SVG. Gravatar or any other
/// service is never asked.
/// </summary>
public sealed class ProfilePictures(IPictureStore pictures, TimeProvider time)
{
    public const int MaximumBytes = 256 * 1024;

    private static readonly string[] Palette = ["#0b6e4f", "#2b6cb0", "#8a4baf", "#b7472a", "#2c7a7b", "#975a16", "#4a5568", "#a4262c"];

    /// <summary>Stores an upload; null when it is accepted, else what is wrong with it (a resource key).</summary>
    public async Task<string?> UploadAsync(string user, IFormFile? file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var (image, problem) = await ReadImageAsync(file, cancellationToken);
        if (image is null)
        {
            return problem;
        }

        await pictures.SetAsync(user, new ProfilePicture(image.Value.ContentType, image.Value.Bytes, time.GetUtcNow()), cancellationToken);
        return null;
    }

    /// <summary>
    /// An uploaded picture (profile picture, company logo): PNG or JPEG of at most <see cref="MaximumBytes"/>,
    /// else the resource key of what is wrong with it.
    /// </summary>
    public static async Task<((string ContentType, byte[] Bytes)? Image, string? Problem)> ReadImageAsync(IFormFile? file, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0)
        {
            return (null, "PictureMissing");
        }

        if (file.Length > MaximumBytes)
        {
            return (null, "PictureTooLarge");
        }

        var bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream())
        {
            await stream.ReadExactlyAsync(bytes, cancellationToken);
        }

        return Sniff(bytes) is { } type ? ((type, bytes), null) : (null, "PictureWrongType");
    }

    public Task RemoveAsync(string user, CancellationToken cancellationToken) => pictures.RemoveAsync(user, cancellationToken);

    public Task<ProfilePicture?> FindAsync(string user, CancellationToken cancellationToken) => pictures.FindAsync(user, cancellationToken);

    /// <summary>PNG or JPEG by their signatures; anything else (SVG, HTML, GIF...) is refused.</summary>
    public static string? Sniff(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) ? "image/png"
        : bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "image/jpeg"
        : null;

    /// <summary>The initials of a name ("alice" → "A", "bob.smith" → "BS") on a colour chosen by the name.</summary>
    public static string InitialsSvg(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var parts = name.Split(['.', '-', '_', ' '], StringSplitOptions.RemoveEmptyEntries);
        var initials = string.Concat(parts.Take(2).Select(p => char.ToUpper(p[0], CultureInfo.InvariantCulture)));
        if (initials.Length == 0)
        {
            initials = "?";
        }

        var colour = Palette[SHA256.HashData(Encoding.UTF8.GetBytes(name.ToLowerInvariant()))[0] % Palette.Length];
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\" width=\"64\" height=\"64\">"
            + $"<circle cx=\"32\" cy=\"32\" r=\"32\" fill=\"{colour}\"/>"
            + "<text x=\"32\" y=\"41\" font-family=\"system-ui, sans-serif\" font-size=\"26\" font-weight=\"600\" fill=\"#fff\" text-anchor=\"middle\">"
            + System.Net.WebUtility.HtmlEncode(initials) + "</text></svg>";
    }

    /// <summary>GET /profile/picture/{name}: the picture of an existing user, for signed-in users.</summary>
    internal static async Task<IResult> PictureAsync(string name, ProfilePictures pictures, IUserStore users, HttpContext context, CancellationToken cancellationToken)
    {
        // Only names of existing users: the endpoint draws nothing for arbitrary text.
        var user = AccountName.IsValid(name) ? await users.FindAsync(name, cancellationToken) : null;
        if (user is null)
        {
            return TypedResults.NotFound();
        }

        context.Response.Headers.CacheControl = "private, max-age=60";
        var picture = await pictures.FindAsync(user.Name, cancellationToken);
        return picture is not null
            ? TypedResults.Bytes(picture.Bytes, picture.ContentType)
            : TypedResults.Text(InitialsSvg(user.Name), "image/svg+xml", Encoding.UTF8);
    }
}
