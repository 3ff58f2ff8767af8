// hems's GraphiQL: the vendored GraphiQL with a fetcher that POSTs to the API, the
// Authorization header prefilled, and the token of loginUser (or refreshToken) carried
// into the Headers tab so that the next request is authenticated.
(function () {
  "use strict";

  const root = document.getElementById("graphiql");
  const endpoint = root.dataset.endpoint;

  const DEFAULT_QUERY = `# Run "Login" first (press ▶, then pick it):
# its token goes into the Headers tab below.
# Then run "MyHome". Docs: the book icon.

mutation Login {
  loginUser(username: "demo", password: "demo-password-1") {
    token
    refreshToken
  }
}

query MyHome {
  energyStats {
    currentProduction currentConsumption
    currentStorageFlow netGridFlow timestamp
  }
  allDevices {
    id name kind status powerW
    ... on StorageDevice { levelWh percentage flowW }
  }
}
`;

  function headersWith(token) {
    return JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2);
  }

  // "Bearer " with nothing after it is the prefilled placeholder, not a token: leave it out
  // rather than have the API refuse the request.
  function sendable(headers) {
    const out = {};
    for (const [name, value] of Object.entries(headers || {})) {
      if (name.toLowerCase() === "authorization" && !String(value).replace(/^Bearer\s*/i, "").trim()) continue;
      out[name] = value;
    }
    return out;
  }

  // A new access token in an answer: a mutation's payload with a `token` string.
  function tokenIn(result) {
    const data = result && result.data;
    if (!data || typeof data !== "object") return null;
    for (const value of Object.values(data)) {
      if (value && typeof value.token === "string" && value.token) return value.token;
    }
    return null;
  }

  async function post(params, headers) {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...sendable(headers) },
      body: JSON.stringify(params),
      credentials: "omit", // the API reads the token only, never the session
    });
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch (error) {
      return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 300)}` }] };
    }
  }

  function App() {
    const [headers, setHeaders] = React.useState(headersWith(""));
    const fetcher = React.useCallback(async (params, options) => {
      const result = await post(params, options && options.headers);
      const token = tokenIn(result);
      if (token) setHeaders(headersWith(token));
      return result;
    }, []);
    React.useEffect(() => {
      const form = document.getElementById("hems-token");
      const onSubmit = (event) => {
        event.preventDefault();
        const token = form.elements.token.value.trim().replace(/^Bearer\s+/i, "");
        if (token) setHeaders(headersWith(token));
        form.reset();
      };
      form.addEventListener("submit", onSubmit);
      return () => form.removeEventListener("submit", onSubmit);
    }, []);
    return React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: DEFAULT_QUERY,
      headers,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false, // tokens stay out of localStorage
      defaultEditorToolsVisibility: "headers",
    });
  }

  ReactDOM.createRoot(root).render(React.createElement(App));
})();
