using System.Net;

namespace MiniDock.Registry;

/// <summary>
/// A registry operation failed. The message is one line meant for the user (it names the registry and,
/// for HTTP failures, the status and the registry's own error text from the OCI error body,
/// distribution-spec "Error Codes").
/// </summary>
public class RegistryException : Exception
{
    public RegistryException(string message, HttpStatusCode? statusCode = null, Exception? inner = null)
        : base(message, inner)
    {
        StatusCode = statusCode;
    }

    /// <summary>The HTTP status when the failure came from a response; null for local failures.</summary>
    public HttpStatusCode? StatusCode { get; }
}

/// <summary>
/// Content did not hash to the digest that addresses it (image-spec descriptor.md "Digests": consumers
/// MUST verify). A subtype of <see cref="RegistryException"/> so callers that only report errors need one catch.
/// </summary>
public sealed class DigestMismatchException : RegistryException
{
    public DigestMismatchException(string expected, string actual, string what)
        : base($"digest mismatch for {what}: expected {expected}, got {actual}")
    {
        Expected = expected;
        Actual = actual;
    }

    public string Expected { get; }

    public string Actual { get; }
}

/// <summary>A malformed image reference (distribution/reference grammar). One clear line.</summary>
public sealed class ReferenceException : FormatException
{
    public ReferenceException(string message)
        : base(message)
    {
    }
}
