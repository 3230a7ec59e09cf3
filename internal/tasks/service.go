// Package tasks is the Task API itself: it implements the generated strict server interface
// on top of the generated queries, and passes the authenticated user's id into every query.
package tasks

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	api "taskapi/gen/api"
	"taskapi/gen/db"
	"taskapi/internal/auth"
	"taskapi/internal/problem"
)

var _ api.StrictServerInterface = (*Service)(nil)

// Service serves the task operations of openapi.yaml.
type Service struct {
	queries *db.Queries
}

// New returns a Service running its queries on conn (a pool, or a transaction in tests).
func New(conn db.DBTX) *Service {
	return &Service{queries: db.New(conn)}
}

var errTaskNotFound = problem.New(problem.NotFound, "task not found")

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
	return api.ListTasks200JSONResponse(page), nil
}

// CreateTask stores a new task owned by the caller.
func (s *Service) CreateTask(ctx context.Context, req api.CreateTaskRequestObject) (api.CreateTaskResponseObject, error) {
	user, err := userID(ctx)
	if err != nil {
		return nil, err
	}
	in, err := readInput(req.Body)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7() // time-ordered, so ties on a sort key fall in creation order
	if err != nil {
		return nil, err
	}
	row, err := s.queries.CreateTask(ctx, db.CreateTaskParams{
		ID:          id,
		UserID:      user,
		Title:       in.Title,
		Description: in.Description,
		Completed:   in.Completed,
		Priority:    in.Priority,
		DueDate:     in.DueDate,
		Tags:        in.Tags,
	})
	if err != nil {
		return nil, dbError(err)
	}
	return api.CreateTask201JSONResponse{
		Body:    toAPI(row),
		Headers: api.CreateTask201ResponseHeaders{Location: "/api/tasks/" + row.ID.String()},
	}, nil
}

// GetTask returns one of the caller's tasks.
func (s *Service) GetTask(ctx context.Context, req api.GetTaskRequestObject) (api.GetTaskResponseObject, error) {
	user, err := userID(ctx)
	if err != nil {
		return nil, err
	}
	row, err := s.queries.GetTask(ctx, db.GetTaskParams{UserID: user, ID: req.Id})
	if err != nil {
		return nil, dbError(err)
	}
	return api.GetTask200JSONResponse(toAPI(row)), nil
}

// ReplaceTask overwrites every editable field; absent fields take their defaults.
func (s *Service) ReplaceTask(ctx context.Context, req api.ReplaceTaskRequestObject) (api.ReplaceTaskResponseObject, error) {
	user, err := userID(ctx)
	if err != nil {
		return nil, err
	}
	in, err := readInput(req.Body)
	if err != nil {
		return nil, err
	}
	row, err := s.queries.UpdateTask(ctx, in.replacing(user, req.Id))
	if err != nil {
		return nil, dbError(err)
	}
	return api.ReplaceTask200JSONResponse(toAPI(row)), nil
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
	row, err := s.queries.UpdateTask(ctx, params)
	if err != nil {
		return nil, dbError(err)
	}
	return api.UpdateTask200JSONResponse(toAPI(row)), nil
}

// DeleteTask removes one of the caller's tasks.
func (s *Service) DeleteTask(ctx context.Context, req api.DeleteTaskRequestObject) (api.DeleteTaskResponseObject, error) {
	user, err := userID(ctx)
	if err != nil {
		return nil, err
	}
	n, err := s.queries.DeleteTask(ctx, db.DeleteTaskParams{UserID: user, ID: req.Id})
	if err != nil {
		return nil, dbError(err)
	}
	if n == 0 {
		return nil, errTaskNotFound
	}
	return api.DeleteTask204Response{}, nil
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
	if errors.Is(err, pgx.ErrNoRows) {
		return errTaskNotFound
	}
	return problemFromDB(err)
}
