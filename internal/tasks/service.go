// Package tasks is the Task API itself: it implements the generated strict server interface
// on top of the generated queries, and passes the authenticated user's id into every query.
package tasks

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	api "taskapi/gen/api"
	"taskapi/gen/db"
	"taskapi/internal/auth"
	"taskapi/internal/problem"
	"taskapi/internal/replica"
)

// Service serves the task operations of openapi.yaml.
type Service struct {
	pool    *pgxpool.Pool
	queries *db.Queries
	// reads is where the lists (tasks, reminders) are read: a standby when there is one and
	// the caller has not just written. Everything else, single tasks included (their ETag is
	// what an If-Match is made from), reads the primary.
	reads *replica.Router
}

// New returns a Service on pool whose lists are read where reads says (nil: on pool too).
func New(pool *pgxpool.Pool, reads *replica.Router) *Service {
	if reads == nil {
		reads = replica.New(pool, nil, replica.Options{})
	}
	return &Service{pool: pool, queries: db.New(pool), reads: reads}
}

var (
	// ErrNotFound is a task that does not exist for the caller, theirs or not.
	ErrNotFound    = problem.New(problem.NotFound, "task not found")
	errTaskChanged = problem.New(problem.PreconditionFailed, "the task has changed since the ETag in If-Match; nothing was changed")
)

// ListTasks returns one page of the caller's tasks.
func (s *Service) ListTasks(ctx context.Context, req api.ListTasksRequestObject) (api.ListTasksResponseObject, error) {
	user, err := userID(ctx)
	if err != nil {
		return nil, err
	}
	page, err := s.list(ctx, user, req.Params)
	if err != nil {
		return nil, err
	}
	return pageJSON(page), nil
}

// CreateTask stores a new task owned by the caller, at most once per Idempotency-Key.
func (s *Service) CreateTask(ctx context.Context, req api.CreateTaskRequestObject) (api.CreateTaskResponseObject, error) {
	user, err := userID(ctx)
	if err != nil {
		return nil, err
	}
	in, err := readInput(req.Body)
	if err != nil {
		return nil, err
	}
	if req.Params.IdempotencyKey != nil {
		return s.createOnce(ctx, user, *req.Params.IdempotencyKey, in)
	}
	row, err := s.insert(ctx, s.queries, user, in)
	if err != nil {
		return nil, err
	}
	return created(ToAPI(row), etag(row.Version), nil), nil
}

func (s *Service) insert(ctx context.Context, q *db.Queries, user string, in input) (*db.Task, error) {
	id, err := uuid.NewV7() // time-ordered, so ties on a sort key fall in creation order
	if err != nil {
		return nil, err
	}
	row, err := q.CreateTask(ctx, db.CreateTaskParams{
		ID:          id,
		UserID:      user,
		Title:       in.Title,
		Description: in.Description,
		Completed:   in.Completed,
		Priority:    in.Priority,
		DueDate:     in.DueDate,
		Tags:        in.Tags,
		Recurrence:  in.Recurrence,
		Timezone:    in.Timezone,
		RemindAt:    in.RemindAt,
		Upcoming:    upcoming(in.Recurrence, in.Timezone, in.DueDate),
	})
	return row, dbError(err)
}

// location is the URL of the task with this id, for a new task's Location header.
func location(id uuid.UUID) string { return "/api/tasks/" + id.String() }

func created(task api.Task, etag string, replayed *string) api.CreateTask201JSONResponse {
	return api.CreateTask201JSONResponse{
		Body: task,
		Headers: api.CreateTask201ResponseHeaders{
			Location:           location(task.Id),
			ETag:               etag,
			IdempotentReplayed: replayed,
		},
	}
}

// GetTask returns one of the caller's tasks, or 304 when If-None-Match has its ETag.
func (s *Service) GetTask(ctx context.Context, req api.GetTaskRequestObject) (api.GetTaskResponseObject, error) {
	user, err := userID(ctx)
	if err != nil {
		return nil, err
	}
	row, err := s.get(ctx, user, req.Id)
	if err != nil {
		return nil, err
	}
	tag := etag(row.Version)
	if noneMatch(req.Params.IfNoneMatch, row.Version) {
		return api.GetTask304Response{Headers: api.GetTask304ResponseHeaders{ETag: tag}}, nil
	}
	return api.GetTask200JSONResponse{Body: ToAPI(row), Headers: api.GetTask200ResponseHeaders{ETag: tag}}, nil
}

func (s *Service) get(ctx context.Context, user string, id uuid.UUID) (*db.Task, error) {
	row, err := retryRead(ctx, func() (*db.Task, error) {
		return s.queries.GetTask(ctx, db.GetTaskParams{UserID: user, ID: id})
	})
	return row, dbError(err)
}

// ReplaceTask updates the fields the body has, as UpdateTask does: PUT from an edit form
// sends only the fields it shows, and a field left out keeps its value.
func (s *Service) ReplaceTask(ctx context.Context, req api.ReplaceTaskRequestObject) (api.ReplaceTaskResponseObject, error) {
	user, err := userID(ctx)
	if err != nil {
		return nil, err
	}
	params, err := readPatch(req.Body, user, req.Id)
	if err != nil {
		return nil, err
	}
	params.IfVersions = ifMatch(req.Params.IfMatch)
	w, err := s.update(ctx, params)
	if err != nil {
		return nil, err
	}
	return api.ReplaceTask200JSONResponse{Body: ToAPI(w.row), Headers: api.ReplaceTask200ResponseHeaders{ETag: etag(w.row.Version), Link: w.link()}}, nil
}

// UpdateTask applies a JSON merge patch.
func (s *Service) UpdateTask(ctx context.Context, req api.UpdateTaskRequestObject) (api.UpdateTaskResponseObject, error) {
	user, err := userID(ctx)
	if err != nil {
		return nil, err
	}
	body := req.ApplicationMergePatchPlusJSONBody
	if body == nil {
		body = req.JSONBody
	}
	params, err := readPatch(body, user, req.Id)
	if err != nil {
		return nil, err
	}
	params.IfVersions = ifMatch(req.Params.IfMatch)
	w, err := s.update(ctx, params)
	if err != nil {
		return nil, err
	}
	return api.UpdateTask200JSONResponse{Body: ToAPI(w.row), Headers: api.UpdateTask200ResponseHeaders{ETag: etag(w.row.Version), Link: w.link()}}, nil
}

// DeleteTask removes one of the caller's tasks.
func (s *Service) DeleteTask(ctx context.Context, req api.DeleteTaskRequestObject) (api.DeleteTaskResponseObject, error) {
	user, err := userID(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.delete(ctx, user, req.Id, ifMatch(req.Params.IfMatch)); err != nil {
		return nil, err
	}
	return api.DeleteTask204Response{}, nil
}

func (s *Service) delete(ctx context.Context, user string, id uuid.UUID, versions []int64) error {
	n, err := s.queries.DeleteTask(ctx, db.DeleteTaskParams{UserID: user, ID: id, IfVersions: versions})
	switch {
	case err != nil:
		return dbError(err)
	case n == 1:
		return nil
	case versions != nil:
		return s.notFoundOrChanged(ctx, user, id)
	default:
		return ErrNotFound
	}
}

// notFoundOrChanged explains a conditional write that wrote nothing. The write itself was the
// atomic check; this only picks the status.
func (s *Service) notFoundOrChanged(ctx context.Context, user string, id uuid.UUID) error {
	exists, err := s.queries.TaskExists(ctx, db.TaskExistsParams{UserID: user, ID: id})
	switch {
	case err != nil:
		return dbError(err)
	case exists:
		return errTaskChanged
	default:
		return ErrNotFound
	}
}

// userID is the caller, put on the context by the HTTP layer's authentication. Its absence
// means a route was wired without authentication: a bug, so an internal error, not a 401.
func userID(ctx context.Context) (string, error) {
	id, ok := auth.UserID(ctx)
	if !ok {
		return "", errors.New("tasks: no authenticated user on the context")
	}
	return id, nil
}

// dbError turns a query error into the error the client should see.
func dbError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return ErrorFromDB(err)
}
