package jwks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
)

// errNotModified tells fetch that a conditional request found no change.
var errNotModified = errors.New("not modified")

// fetcher reads the key set over HTTP. Only one refresh runs at a time, but
// its validators are guarded anyway so fetch is safe on its own.
type fetcher struct {
	opts   Options
	client *http.Client

	mu           sync.Mutex
	etag         string
	lastModified string
	current      *keySet
}

func newFetcher(opts Options) *fetcher {
	c := opts.Client
	if c == nil {
		c = NewHTTPClient(nil, opts.RequestTimeout)
	}
	return &fetcher{opts: opts, client: c}
}

// fetch returns a fresh key set. With HTTPCache, a 304 answer returns the
// set of the previous successful fetch.
func (f *fetcher) fetch(ctx context.Context) (*keySet, error) {
	uri := f.opts.URL
	if uri == "" {
		var err error
		if uri, err = f.discover(ctx); err != nil {
			return nil, err
		}
	}
	body, hdr, err := f.get(ctx, uri, "application/jwk-set+json, application/json", true)
	if errors.Is(err, errNotModified) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.current != nil {
			f.opts.Logger.Debug("key set not modified")
			return f.current, nil
		}
		return nil, fmt.Errorf("getting key set: 304 without a cached copy")
	}
	if err != nil {
		return nil, fmt.Errorf("getting key set: %w", err)
	}
	ks, err := parseKeySet(body, f.opts.MaxKeys, f.opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("reading key set: %w", err)
	}
	if f.opts.HTTPCache {
		f.mu.Lock()
		f.etag, f.lastModified, f.current = hdr.Get("ETag"), hdr.Get("Last-Modified"), ks
		f.mu.Unlock()
	}
	return ks, nil
}

// discover reads jwks_uri from the OpenID Connect discovery document.
func (f *fetcher) discover(ctx context.Context) (string, error) {
	body, _, err := f.get(ctx, f.opts.DiscoveryURL, "application/json", false)
	if err != nil {
		return "", fmt.Errorf("getting discovery document: %w", err)
	}
	doc, err := DecodeObject(body, maxDocumentDepth)
	if err != nil {
		return "", fmt.Errorf("reading discovery document: %w", err)
	}
	var uri string
	if err := json.Unmarshal(doc["jwks_uri"], &uri); err != nil {
		return "", errors.New(`reading discovery document: no "jwks_uri" string`)
	}
	if err := checkURL(uri); err != nil {
		return "", fmt.Errorf("discovery document jwks_uri: %w", err)
	}
	return uri, nil
}

// get performs one GET and returns at most MaxResponseBytes of body.
func (f *fetcher) get(ctx context.Context, uri, accept string, conditional bool) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", accept)
	if conditional && f.opts.HTTPCache {
		f.mu.Lock()
		if f.current != nil {
			if f.etag != "" {
				req.Header.Set("If-None-Match", f.etag)
			}
			if f.lastModified != "" {
				req.Header.Set("If-Modified-Since", f.lastModified)
			}
		}
		f.mu.Unlock()
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if conditional && resp.StatusCode == http.StatusNotModified {
		return nil, resp.Header, errNotModified
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, fmt.Errorf("%s answered %s", redacted(uri), resp.Status)
	}
	limit := f.opts.MaxResponseBytes
	if resp.ContentLength > limit {
		return nil, nil, fmt.Errorf("response of %d bytes is larger than %d", resp.ContentLength, limit)
	}
	// One byte more than the limit tells a body over it from one at it;
	// limit+1 would overflow at math.MaxInt64 and read nothing.
	body, err := io.ReadAll(io.LimitReader(resp.Body, min(limit, math.MaxInt64-1)+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading response: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, nil, fmt.Errorf("response is larger than %d bytes", limit)
	}
	return body, resp.Header, nil
}
